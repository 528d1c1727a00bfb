"""Writing KPI values: new rows keep the stored `computed_at` where nothing about them changed."""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

SOURCE = "ga4_export"
"""The `source` of the values a refresh computes from the export (`kpi_values`, `kpi_refresh_state`); the GA4 Data
API's have their own (`refresh_api.py`)."""
MERGED = "merged_values"

_MERGE_SQL = f"""
    CREATE OR REPLACE TEMP TABLE {MERGED} AS
    SELECT n.*, CASE WHEN o.kpi_id IS NOT NULL
            AND o.value IS NOT DISTINCT FROM n.value
            AND o.numerator IS NOT DISTINCT FROM n.numerator
            AND o.denominator IS NOT DISTINCT FROM n.denominator
            AND o.definition_hash = n.definition_hash
        THEN o.computed_at ELSE $now END AS computed_at
    FROM staged_kpi_values n
    LEFT JOIN kpi_values o USING (kpi_id, date, breakdown, breakdown_value, source)
"""


def stage_values(con: duckdb.DuckDBPyConnection, new_values: pa.Table, now: dt.datetime) -> str:
    """Stage `new_values` (kpi_values' columns less `computed_at`) as a temp table and return its name.

    A row equal to the stored one keeps its `computed_at`, so refreshing twice leaves identical tables.
    Call inside the transaction that then deletes the replaced rows and inserts the staged ones.
    """
    con.register("staged_kpi_values", new_values)
    try:
        con.execute(_MERGE_SQL, {"now": now})
    finally:
        con.unregister("staged_kpi_values")
    return MERGED
