"""The `ga4_events` shape: the GA4 BigQuery export columns KPI Bridge keeps, in DuckDB and Arrow terms (the raw
files hold them, `ga4_events` is the view over those, `slim_events` holds what the KPI statements read).

One place defines the shape, so the DDL, the demo generator and the export loader cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from generator.sql.export_shape import (
    COLLECTED_TRAFFIC_SOURCE,
    LAST_CLICK,
    PARAM_VALUE_FIELDS,
    Fields,
    struct_type,
)

SLIM_TABLE = "slim_events"
"""What the KPI statements read of each raw event (`warehouse/slim_events.py`); the raw export is in files."""



@dataclass(frozen=True)
class Column:
    """One column of `ga4_events`: its DuckDB type, sub-fields for STRUCTs, and whether an export must have it."""

    name: str
    duckdb_type: str
    required: bool = False
    fields: Fields = ()  # (name, DuckDB type or nested fields) of a STRUCT column's fields


def _struct(fields: Fields) -> str:
    return struct_type(fields)


PARAM_VALUE_TYPE = _struct(PARAM_VALUE_FIELDS)
EVENT_PARAMS_TYPE = f"STRUCT(key VARCHAR, value {PARAM_VALUE_TYPE})[]"

_DEVICE = (("category", "VARCHAR"), ("operating_system", "VARCHAR"), ("browser", "VARCHAR"), ("language", "VARCHAR"))
_GEO = (("continent", "VARCHAR"), ("country", "VARCHAR"), ("region", "VARCHAR"), ("city", "VARCHAR"))
_TRAFFIC_SOURCE = (("name", "VARCHAR"), ("medium", "VARCHAR"), ("source", "VARCHAR"))
# collected_traffic_source and session_traffic_source_last_click: their fields are defined with the SQL
# that reads them (generator/sql/export_shape.py).
# Consent mode: cookieless pings say `analytics_storage = 'No'` and have no user_pseudo_id (ga4.md §11).
_PRIVACY_INFO = (("analytics_storage", "VARCHAR"), ("ads_storage", "VARCHAR"), ("uses_transient_token", "VARCHAR"))
_ECOMMERCE = (("transaction_id", "VARCHAR"), ("purchase_revenue", "DOUBLE"), ("total_item_quantity", "BIGINT"))

COLUMNS: tuple[Column, ...] = (
    Column("event_date", "VARCHAR", required=True),
    Column("event_timestamp", "BIGINT", required=True),
    Column("event_name", "VARCHAR", required=True),
    Column("event_params", EVENT_PARAMS_TYPE, required=True),
    Column("user_id", "VARCHAR"),
    Column("user_pseudo_id", "VARCHAR", required=True),
    Column("user_first_touch_timestamp", "BIGINT"),
    Column("device", _struct(_DEVICE), fields=_DEVICE),
    Column("geo", _struct(_GEO), fields=_GEO),
    Column("traffic_source", _struct(_TRAFFIC_SOURCE), fields=_TRAFFIC_SOURCE),
    Column("collected_traffic_source", _struct(COLLECTED_TRAFFIC_SOURCE), fields=COLLECTED_TRAFFIC_SOURCE),
    Column("session_traffic_source_last_click", _struct(LAST_CLICK), fields=LAST_CLICK),
    Column("ecommerce", _struct(_ECOMMERCE), fields=_ECOMMERCE),
    Column("privacy_info", _struct(_PRIVACY_INFO), fields=_PRIVACY_INFO),
    Column("platform", "VARCHAR"),
)
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
REQUIRED_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.required)

_ARROW_SCALARS = {"VARCHAR": pa.string(), "BIGINT": pa.int64(), "DOUBLE": pa.float64()}


def _arrow_struct(fields: Fields) -> pa.StructType:
    return pa.struct([(name, _ARROW_SCALARS[kind] if isinstance(kind, str) else _arrow_struct(kind))
                      for name, kind in fields])


ARROW_PARAM = pa.struct([("key", pa.string()), ("value", _arrow_struct(PARAM_VALUE_FIELDS))])


def _arrow_type(column: Column) -> pa.DataType:
    if column.name == "event_params":
        return pa.list_(ARROW_PARAM)
    if column.fields:
        return _arrow_struct(column.fields)
    return _ARROW_SCALARS[column.duckdb_type]


ARROW_SCHEMA: pa.Schema = pa.schema([(c.name, _arrow_type(c)) for c in COLUMNS])


def create_table_sql(table: str = "ga4_events") -> str:
    """`CREATE TABLE` for the events table (the three row keys are NOT NULL; GA4 may omit the rest)."""
    not_null = {"event_date", "event_timestamp", "event_name"}
    cols = ",\n  ".join(
        f"{c.name} {c.duckdb_type}" + (" NOT NULL" if c.name in not_null else "") for c in COLUMNS
    )
    return f"CREATE TABLE {table} (\n  {cols}\n)"
