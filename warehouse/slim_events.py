"""`slim_events`: what the KPI statements read of each raw event, as plain columns (issue 13 §1).

The warehouse's `events` view (what every KPI statement reads) is over this table, not over the raw export
(`raw_files.py`). It holds every export column but the two nested ones that cost a load most (`event_params`,
7.2 CPU s of 24 at 5M events, and `session_traffic_source_last_click`, 5.5), and in their place:

- the event params the KPI files read, one column each (`flat_params.py`), extracted as the rows are inserted,
  and later, for a param the KPI files start to read, from the raw files (`flat_params.flatten`);
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
from generator.sql.export_shape import LAST_CLICK_COLUMN

from .flat_params import add_columns, flat_columns, with_flat_columns
from .raw_files import FILE, RAW_FILES_DDL, ROW, files_sql, refresh_view, write_days
from .schema.events import COLUMNS, SLIM_TABLE

TABLE = SLIM_TABLE
RAW_ONLY = ("event_params", "session_traffic_source_last_click")
"""The export's columns only the raw files keep."""

LAST_CLICK = tuple(f"{LAST_CLICK_COLUMN}{name}" for name in last_click_values())
KEPT = tuple(c.name for c in COLUMNS if c.name not in RAW_ONLY)
CHECKED = (*KEPT, *LAST_CLICK)
"""What a day's checksum covers (`store.day_stats`): every column but the file links and the flattened params."""
NAMES = (*CHECKED, FILE, ROW)
"""The table's columns before the flattened params, in order."""

DDL = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (\n  "
    + ",\n  ".join([*(f"{c.name} {c.duckdb_type}" + (" NOT NULL" if c.name in {"event_date", "event_timestamp",
                                                                                 "event_name"} else "")
                      for c in COLUMNS if c.name not in RAW_ONLY),
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
    projected = rows.project(", ".join([*KEPT, *last_click, FILE, ROW, "event_params"]))
    with_flat_columns(con, projected, NAMES, carried=("event_params",)).insert_into(TABLE)


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
    add_columns(con, [column for _, column in flat_columns(con, filled=False)])
    insert_from_files(con, ids)
    con.execute("DROP TABLE ga4_events")
    refresh_view(con)
    con.execute(VIEW)
