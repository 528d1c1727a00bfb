"""The days a refresh must recompute because a purchase's transaction id now first appears on another day.

Purchases count once per transaction id across the whole history: the KPI SQL leaves out every id a purchase
carried before the first day it computes (`generator/sql/transactions.py`). So loading a day can change days
that were not loaded: a late earlier day holding id T1 makes T1's purchase on a later day a duplicate (that day
now counts one purchase less), and a reloaded day that lost T1 makes it count again there.

The store keeps, per transaction id, the first day the last refresh saw it on (`transaction_first_seen`). Each
refresh compares it with the loaded events: every day holding a purchase of an id whose first day changed (or
that appeared or vanished), and the id's former first day, is recomputed for the KPIs that read `purchase`.
Then the table is replaced, in the refresh's transaction (not when a KPI reading `purchase` failed: those days
are then found again next time). A store upgraded from an older version starts with an empty table, so its
first refresh recomputes every day with a purchase once (their values had been deduplicated only within the
days each refresh read).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import TYPE_CHECKING

import duckdb

from generator.plan.queries import QueryPlan

if TYPE_CHECKING:
    import pyarrow as pa

FIRST_SEEN_DDL = """CREATE TABLE IF NOT EXISTS transaction_first_seen (
  transaction_id VARCHAR PRIMARY KEY,
  first_date VARCHAR NOT NULL
)"""


@functools.cache
def _purchases() -> tuple[str, str]:
    """(each purchase's id and day, each id's first day): the ids exactly as the KPI SQL reads them (GA4's
    placeholders for a missing id are no id). Built on first use: every command that opens the store imports
    this module (its DDL is a migration), and sqlglot takes a tenth of a second to import."""
    from sqlglot import exp

    from generator.sql.transactions import PURCHASE, transaction_id

    tid = transaction_id(exp.Dot(this=exp.column("ecommerce"), expression=exp.to_identifier("transaction_id")))
    purchases = (f"SELECT {tid.sql(dialect='duckdb')} AS transaction_id, event_date FROM slim_events "  # noqa: S608
                 f"WHERE event_name = '{PURCHASE}'")
    first_days = (f"SELECT transaction_id, min(event_date) AS first_date FROM ({purchases}) "  # noqa: S608
                  "WHERE transaction_id IS NOT NULL GROUP BY transaction_id")
    return purchases, first_days


def reads_purchases(plan: QueryPlan, kpi_id: str) -> bool:
    """True when the KPI counts deduplicated purchases (a component of a derived KPI: see `days_to_refresh`)."""
    return any(m.dedupe_transactions for m in plan.kpis[kpi_id].measures())


_FIRST_DAYS = "kb_first_days"
"""The name under which `first_days`' table is registered for the statements reading it."""


def first_days(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """Each transaction id's first day in the loaded events (`transaction_id`, `first_date`): read once by a
    refresh for `days_changed` and `save_first_seen` (each read every purchase for it: at 180 days of 55,000
    events a day, three reads of 0.09-0.16 CPU s where one does)."""
    return con.sql(_purchases()[1]).to_arrow_table()


def days_changed(con: duckdb.DuckDBPyConnection, first: pa.Table | None = None) -> set[str]:
    """The YYYYMMDD days whose deduplicated purchases may differ from what the last refresh computed; `first`:
    `first_days` as the caller read it."""
    purchases, first_sql = _purchases()
    with _first_days(con, first) as now:
        rows = con.execute(f"""
            WITH changed AS (
                SELECT coalesce(n.transaction_id, o.transaction_id) AS transaction_id, o.first_date AS former
                FROM ({now or first_sql}) AS n FULL JOIN transaction_first_seen AS o ON n.transaction_id = o.transaction_id
                WHERE n.first_date IS DISTINCT FROM o.first_date
            )
            SELECT p.event_date FROM ({purchases}) AS p JOIN changed AS c ON p.transaction_id = c.transaction_id
            UNION SELECT former FROM changed WHERE former IS NOT NULL
        """).fetchall()  # noqa: S608 - constant SQL
    return {day for (day,) in rows}


def unrecorded(con: duckdb.DuckDBPyConnection) -> bool:
    """True when a purchase carries an id and `transaction_first_seen` records none: a store migration 11 gave the
    table, empty, whose next refresh records every id (`days_changed`). Otherwise the table is what the last
    refresh that counted every KPI saw (each such refresh saves it whole), so with no day loaded since it is
    current: found without reading every purchase (`days_changed`: 0.08 CPU s at 180 days of 55,000 events a
    day, 0.15 at 365, of a refresh with nothing new that costs 0.8-0.9)."""
    if con.execute("SELECT count(*) FROM (SELECT 1 FROM transaction_first_seen LIMIT 1)").fetchall()[0][0]:
        return False
    purchases = _purchases()[0]
    return bool(con.execute(f"SELECT count(*) FROM (SELECT 1 FROM ({purchases}) "  # noqa: S608 - constant SQL
                            "WHERE transaction_id IS NOT NULL LIMIT 1)").fetchall()[0][0])


def save_first_seen(con: duckdb.DuckDBPyConnection, first: pa.Table | None = None) -> None:
    """Remember each id's first day as the refresh just computed it (inside the refresh's transaction): only
    the ids that are new, gone or moved are written. Deleting and inserting every id again made the commit
    rebuild the table's key index: 0.38 of a new day's 7 CPU s at 5M events (27,000 ids). `first`: `first_days`
    as the caller read it (no load since)."""
    with _first_days(con, first) as now:
        first_sql = now or _purchases()[1]
        con.execute(f"""
            DELETE FROM transaction_first_seen AS o WHERE NOT EXISTS (
                SELECT 1 FROM ({first_sql}) AS n WHERE n.transaction_id = o.transaction_id AND n.first_date = o.first_date)
        """)  # noqa: S608 - constant SQL
        con.execute(f"""
            INSERT INTO transaction_first_seen SELECT * FROM ({first_sql}) AS n
            WHERE NOT EXISTS (SELECT 1 FROM transaction_first_seen AS o WHERE o.transaction_id = n.transaction_id)
        """)  # noqa: S608 - constant SQL


@contextlib.contextmanager
def _first_days(con: duckdb.DuckDBPyConnection, first: pa.Table | None) -> Iterator[str | None]:
    """`first` registered for the statements, as the text reading it; None without it (they read the events)."""
    if first is None:
        yield None
        return
    con.register(_FIRST_DAYS, first)
    try:
        yield f"SELECT transaction_id, first_date FROM {_FIRST_DAYS}"
    finally:
        con.unregister(_FIRST_DAYS)
