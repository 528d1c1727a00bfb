"""The stored events as exported: `ga4_events` (the view over the raw files) numbers each event by its file and
row beside the export's columns, which a comparison with export files leaves out; `slim_events` beside the raw
params; and what tests recount from them in plain SQL."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb

from warehouse.schema import COLUMN_NAMES
from warehouse.schema.migrations import MIGRATIONS, apply_migrations


def export_rows(table: str = "ga4_events") -> str:
    """A SELECT of `table`'s export columns, in the export's order."""
    return "SELECT " + ", ".join(f'"{c}"' for c in COLUMN_NAMES) + f" FROM {table}"


WITH_RAW = ("(SELECT s.*, r.event_params, r.device, r.geo, r.platform, r.collected_traffic_source "
            "FROM slim_events s JOIN ga4_events r USING (kb_file, kb_row))")
"""Each stored event's slim columns (the flattened params and fields among them) beside its raw `event_params`,
its event-scoped records and columns (`device`, `geo`, `platform`) and the click it collected
(`collected_traffic_source`)."""


# The sessions of the days $a … $b (YYYYMMDD), recounted from the raw events: distinct (user, GA4 session id).
SESSIONS = """
    SELECT count(DISTINCT (user_pseudo_id, coalesce(sid.int_value, TRY_CAST(sid.string_value AS BIGINT)))) FROM (
        SELECT user_pseudo_id, list_filter(event_params, lambda p: p.key = 'ga_session_id')[1].value AS sid
        FROM ga4_events WHERE event_date BETWEEN $a AND $b)
    WHERE user_pseudo_id IS NOT NULL AND coalesce(sid.int_value, TRY_CAST(sid.string_value AS BIGINT)) IS NOT NULL"""


def differing(a: dict, b: dict) -> list[tuple]:
    """The keys whose value tuples differ between `a` and `b` (key, a's, b's): a sum of money may differ in its
    last binary digit, as floating-point sums added in another order do; every count must be equal."""
    def equal(x: object, y: object) -> bool:
        if x is None or y is None:
            return x is y
        return math.isclose(float(x), float(y), rel_tol=1e-12, abs_tol=1e-9)  # type: ignore[arg-type]
    return [(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b), key=str)
            if k not in a or k not in b or not all(equal(x, y) for x, y in zip(a[k], b[k], strict=True))]


def old_store(path: Path, version: int, events_of: Path) -> duckdb.DuckDBPyConnection:
    """A new store at schema `version` (before 19: its events in the `ga4_events` table) holding the raw events and
    the loaded days of the store `events_of`, open for writing (close it before opening the store again)."""
    with duckdb.connect(str(events_of), read_only=True) as new:
        events = new.sql(export_rows()).to_arrow_table()
        days = new.sql("SELECT * FROM loaded_days").to_arrow_table()
    con = duckdb.connect(str(path))
    apply_migrations(con, [m for m in MIGRATIONS if m[0] <= version])
    con.from_arrow(events).insert_into("ga4_events")
    con.from_arrow(days).insert_into("loaded_days")
    return con
