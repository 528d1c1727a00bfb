"""Which GA4 export table each loaded day came from; a day loaded only from intraday data is provisional.

`loaded_day_tables` has a row per day loaded since it existed (days loaded before have none and count as
complete). The export loader reads it so an intraday file never replaces a day loaded from the daily table;
`kpi load`, `kpi refresh` and `kpi status` name the provisional days. A refresh recomputes a day whenever it
is loaded again (`loaded_days.loaded_at`), so the daily table arriving recomputes its provisional day.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from .reading import read_serving

IN_DAYS = "event_date BETWEEN $first AND $last AND list_contains($days, event_date)"
"""The events of the days `$days` (with `days_params`): by range first, so DuckDB skips row groups by their
min/max before the list test."""


def days_params(days: list[str]) -> dict[str, object]:
    return {"first": min(days), "last": max(days), "days": days}

LOADED_DAY_TABLES_DDL = """CREATE TABLE IF NOT EXISTS loaded_day_tables (
  event_date VARCHAR PRIMARY KEY,
  export_table VARCHAR NOT NULL,  -- 'daily' or 'intraday' (provisional until the daily table replaces it)
  load_id BIGINT NOT NULL
)"""


def record_day_tables(con: duckdb.DuckDBPyConnection, source: object, days: list[str], load_id: int) -> None:
    """Record the table each of these just (re)loaded days came from (the source's `day_tables`, else daily)."""
    tables: dict[str, str] = getattr(source, "day_tables", {})
    con.execute("INSERT OR REPLACE INTO loaded_day_tables SELECT unnest($days), unnest($tables), $load_id",
                {"days": list(days), "tables": [tables.get(day, "daily") for day in days], "load_id": load_id})


def stored_tables(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Every loaded day → `daily` or `intraday` (days loaded before tables were recorded are daily)."""
    rows = con.execute("""
        SELECT d.event_date, coalesce(t.export_table, 'daily')
        FROM loaded_days d LEFT JOIN loaded_day_tables t USING (event_date)
    """).fetchall()
    return {str(day): str(table) for day, table in rows}


def provisional_days(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The loaded days (YYYYMMDD) that only intraday data has filled so far, in order."""
    rows = con.execute("""
        SELECT t.event_date FROM loaded_day_tables t JOIN loaded_days d USING (event_date)
        WHERE t.export_table = 'intraday' ORDER BY 1
    """).fetchall()
    return [str(day) for (day,) in rows]


def serving_provisional_days(serving: Path) -> list[str]:
    """The provisional days as of the last refresh (the serving copy's `warehouse_info`)."""
    rows, _ = read_serving(serving, "SELECT value FROM warehouse_info WHERE key = 'provisional_days'")
    return [d for d in str(rows[0][0]).split(",") if d] if rows and rows[0][0] else []


def provisional_sentence(days: list[str]) -> str | None:
    """One sentence for the summaries, or None when no day is provisional."""
    if not days:
        return None
    shown = ", ".join(f"{d[:4]}-{d[4:6]}-{d[6:]}" for d in days[:5]) + (f" and {len(days) - 5} more" if len(days) > 5 else "")
    one = len(days) == 1
    return (f"Provisional: {shown} {'is' if one else 'are'} loaded from GA4's intraday table only; "
            f"{'its' if one else 'their'} numbers will change when the daily table is loaded "
            "(`kpi load ga4-export events_YYYYMMDD…`, then `kpi refresh`).")
