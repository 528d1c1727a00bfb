"""Data quality once per loaded day: which days `kpi refresh` must check again, and the record that it did.

A day's quality rows (`event_quality`, with the spec versions and attribution methods counted beside them)
depend only on that day's events, the days before it (a transaction id's earlier copies) and the checks
themselves (the events catalog and `quality.QUALITY_SQL`). So each checked day is recorded in
`event_quality_days` (schema/quality_tables.py) with the `loaded_at` of its data and the hash of the checks it ran, and a refresh, full
or not, checks again only:

- a day (re)loaded since it was checked, or never checked;
- every day, when the spec (the events catalog) or the checks changed (`checks_hash`);
- the days after a day reloaded, loaded late (before a checked day) or removed, when they carry a transaction
  id at all: an earlier copy can turn their copies into duplicates, or a reload can take it away;
- days whose rows predate a check column (`quality.stale_quality_days`).

The refresh writes the rows and this record in one transaction; a refresh with nothing (re)loaded reuses them.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import duckdb
import pyarrow as pa

from generator.sql.dimensions import NOT_SET

from .pii_search import pii_suspect
from .quality import CHECKS, QUALITY_SQL, stale_quality_days

_CHECKS_VERSION = hashlib.sha256((QUALITY_SQL + pii_suspect().sql("duckdb") + "|".join(c.column for c in CHECKS))
                                 .encode()).hexdigest()[:16]

_LATER_WITH_IDS = """
SELECT DISTINCT event_date FROM slim_events
WHERE event_date > $after AND ecommerce.transaction_id NOT IN ('', $not_set)
"""


def checks_hash(spec: str) -> str:
    """The hash of what a day's checks depend on besides its data: the spec's hash and the checks' SQL."""
    return hashlib.sha256(f"{spec}:{_CHECKS_VERSION}".encode()).hexdigest()[:16]


def days_to_check(con: duckdb.DuckDBPyConnection, loaded: dict[str, dt.datetime], checks: str) -> list[str]:
    """The loaded YYYYMMDD days whose quality rows must be computed (again), sorted."""
    done = {d: (at, h) for d, at, h in con.execute(
        "SELECT event_date, loaded_at, checks_hash FROM event_quality_days").fetchall()}
    changed = {d for d, at in loaded.items() if done.get(d) != (at, checks)}
    todo = changed | (stale_quality_days(con) & set(loaded))
    # a day checked before with other data (re-exported), loaded late (before a checked day), or no longer loaded
    moved = (changed & set(done)) | {d for d in changed if done and d < max(done)} | (set(done) - set(loaded))
    first_changed = min(moved, default=None)
    if first_changed is not None:  # its transaction ids can change the duplicates of the days after it
        later = con.execute(_LATER_WITH_IDS, {"after": first_changed, "not_set": NOT_SET}).fetchall()
        todo |= {d for (d,) in later} & set(loaded)
    return sorted(todo)


def save_checked(con: duckdb.DuckDBPyConnection, days: list[str], loaded: dict[str, dt.datetime],
                 checks: str) -> None:
    """Record the days just checked (inside the refresh's transaction); forget days no longer loaded."""
    con.execute("DELETE FROM event_quality_days WHERE event_date NOT IN (SELECT event_date FROM loaded_days)")
    if not days:
        return
    table = pa.table({"event_date": pa.array(days, pa.string()),
                      "loaded_at": pa.array([loaded[d] for d in days], pa.timestamp("us")),
                      "checks_hash": pa.array([checks] * len(days), pa.string())})
    con.register("checked_days", table)
    try:
        con.execute("INSERT OR REPLACE INTO event_quality_days SELECT * FROM checked_days")
    finally:
        con.unregister("checked_days")
