"""`slim_events`: what the KPI statements read of each raw event, as plain columns (issue 13 §1).

The warehouse's `events` view (what every KPI statement reads) is over this table, not over the raw export
(`raw_files.py`). It holds the export columns and fields every statement reads (`READ`), not the two nested
ones that cost a load most (`event_params`, 7.2 CPU s of 24 at 5M events, and
`session_traffic_source_last_click`, 5.5), and in their place:

- the event params and event-scoped fields (`device.category`, …) the KPI files read, one column each
  (`flat_params.py`), extracted as the rows are inserted, and later, for one the KPI files start to read, from
  the raw files (`flat_params.flatten`);
- the click the event collected as four text columns (`kc_<n>`, `flat_params.py`), where the KPI files read
  it, not `collected_traffic_source` nor the `page_location` it is computed from;
- GA4's last click of the event's session as four text columns (`lc_source`, `lc_medium`, `lc_campaign`,
  `lc_channel`: `generator.sql.attribution.last_click_values`, which the statements read through `LastClick`);
- each event's raw file and row (`kb_file`, `kb_row`), the link back to everything else it holds.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
from sqlglot import exp

from generator.sql.attribution import last_click_values
from generator.sql.dialects import lower
from generator.sql.dimensions import EVENT_FIELDS
from generator.sql.export_shape import LAST_CLICK_COLUMN, struct_type

from .flat_params import add_columns, flat_columns, with_flat_columns
from .raw_files import FILE, RAW_FILES_DDL, ROW, files_sql, refresh_view, write_days
from .schema.events import COLUMNS, SLIM_TABLE, Column

TABLE = SLIM_TABLE

READ: dict[str, tuple[str, ...]] = {
    "event_date": (), "event_timestamp": (), "event_name": (), "user_pseudo_id": (),
    "ecommerce": ("transaction_id",),  # purchases deduplicated (`generator/sql/transactions.py`)
}
"""The export columns (and the fields of a record) every warehouse's KPI statements read besides the params, the
event-scoped fields, the clicks and GA4's last click: the session key, the event's time and name, the purchase's
id. The click an event collected is kept as its four fields (`flat_params.py`, `kc_<n>`), which the load computes
from `collected_traffic_source` and `page_location`; neither is kept (`ExportShape.click_inputs`: writing them
took a 5M-event load from 21.3 to 23.0 CPU s). The event-scoped fields (`device.category`, `geo.country`, `platform`, …:
`generator/sql/dimensions.EVENT_FIELDS`) are kept as a column each where the KPI files read them
(`flat_params.py`, `kf_<n>`): at 5M events, `device` and `geo` whole cost a load 3.3 CPU s, their two fields the
example KPIs break down by 1.0. The rest (`user_id`, `traffic_source`, `privacy_info`, …) only the raw files
keep."""
FIELD_SOURCES = tuple(dict.fromkeys(parts[0] for parts in EVENT_FIELDS.values()))
"""The export columns the event-scoped fields come from (`device`, `geo`, `platform`): carried into a load's
projection for the fields it flattens (DuckDB reads only those a column is made of)."""

CLICK_SOURCE = "collected_traffic_source"
"""The export column a load computes the clicks' columns from (with `page_location`), carried into its projection."""

LAST_CLICK = tuple(f"{LAST_CLICK_COLUMN}{name}" for name in last_click_values())


def _kept(column: Column) -> tuple[str, str, exp.Expr]:
    """(name, DuckDB type, the expression reading it from a row of `ga4_events`) of a kept column."""
    fields = READ[column.name]
    if not fields:
        return column.name, column.duckdb_type, exp.column(column.name)
    kinds = dict(column.fields)
    value = exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier(f), expression=exp.column(f, table=column.name))
                                    for f in fields])
    return column.name, struct_type(tuple((f, kinds[f]) for f in fields)), value


_KEPT = [_kept(c) for c in COLUMNS if c.name in READ]
KEPT = tuple(name for name, _, _ in _KEPT)
CHECKED = (*KEPT, *LAST_CLICK)
"""What a day's checksum covers (`store.day_stats`): every column but the file links and the flattened params
(so not the clicks: a store made before schema 21 summed `collected_traffic_source` too)."""
NAMES = (*CHECKED, FILE, ROW)
"""The table's columns before the flattened params, in order."""

DDL = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (\n  "
    + ",\n  ".join([*(f"{name} {kind}" + (" NOT NULL" if name in {"event_date", "event_timestamp", "event_name"}
                                           else "") for name, kind, _ in _KEPT),
                    *(f"{name} VARCHAR" for name in LAST_CLICK), f"{FILE} BIGINT NOT NULL", f"{ROW} BIGINT NOT NULL"])
    + "\n)"
)
VIEW = f"CREATE OR REPLACE VIEW events AS SELECT *, rowid AS event_row FROM {TABLE}"
"""What the KPI statements read: each event numbered (`event_row`, `ExportShape.event_rows`)."""


def insert_from_files(con: duckdb.DuckDBPyConnection, file_ids: Sequence[int]) -> None:
    """Insert the rows of the raw files `file_ids`, with every registered flattened param extracted in the same
    pass (`flat_params.with_flat_columns`)."""
    if not file_ids:
        return
    rows = con.sql(files_sql(con, file_ids))
    last_click = [exp.alias_(lower(value, "duckdb"), column).sql("duckdb")
                  for value, column in zip(last_click_values().values(), LAST_CLICK, strict=True)]
    kept = [exp.alias_(value, name).sql("duckdb") for name, _, value in _KEPT]
    carried = ("event_params", CLICK_SOURCE, *FIELD_SOURCES)
    projected = rows.project(", ".join([*kept, *last_click, FILE, ROW, *carried]))
    with_flat_columns(con, projected, NAMES, carried=carried).insert_into(TABLE)


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Schema 19 (in its transaction): a store's `ga4_events` table written out as raw files, a day a file, and
    `slim_events` filled from them with the columns the table had flattened; `ga4_events` becomes the view over
    the files. A failure rolls the store back; the files it wrote are then named by no row (`raw_files.sweep`)."""
    for ddl in RAW_FILES_DDL:
        con.execute(ddl)
    days = [str(d) for (d,) in con.execute("SELECT DISTINCT event_date FROM ga4_events ORDER BY 1").fetchall()]
    ids = write_days(con, con.table("ga4_events"), days)
    con.execute("UPDATE raw_files SET load_id = d.load_id FROM loaded_days d WHERE d.event_date = raw_files.event_date")
    con.execute("UPDATE raw_files SET load_id = 0 WHERE load_id IS NULL")
    con.execute("DROP VIEW events")
    con.execute(DDL)
    add_columns(con, flat_columns(con, filled=False))
    insert_from_files(con, ids)
    con.execute("DROP TABLE ga4_events")
    refresh_view(con)
    con.execute(VIEW)
