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

Each save also records, in the table's comment, which loaded days it covers (`_covered`: the last day, how many
days and a hash of each day with its load), a hash of its own rows and of the SQL reading the first days. When the
next refresh finds those days as they were, the rows as saved and the same SQL, no id's first day can have moved
since, whatever was loaded after the last covered day: only the ids first seen after it are read and added
(`FirstDays.since`), not every purchase of the history (at 180 days of 55,000 events a day, the two statements
took 0.12-0.17 CPU s of a new day, now 0.01-0.02). A day reloaded, removed or loaded before the last covered one,
rows changed by hand, another version's SQL, or `kpi refresh --full` read every purchase, as before; after a
refresh that did not save (a KPI reading purchases failed), the next one starts from what the table last
covered. The refresh's statements read the purchases' history from these first days too (`first_purchases`),
not from every purchase, so the table must be right: it is checked, not trusted.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
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


@dataclass(frozen=True)
class FirstDays:
    """Each transaction id's first day in the loaded events, as a refresh read it once (`first_days`).

    `ids` (`transaction_id`, `first_date`): every id's; or, with `since` (a YYYYMMDD day), only those of the ids
    first seen after it, the table `transaction_first_seen` holding every other one as it is. `covered`: the
    loaded days it was read from (`_covered`), recorded beside the table when it is saved."""

    ids: pa.Table
    since: str | None
    covered: tuple[str, int, int]


def first_days(con: duckdb.DuckDBPyConnection, full: bool = False) -> FirstDays:
    """Each transaction id's first day in the loaded events: read once by a refresh for `days_changed` and
    `save_first_seen` (each read every purchase for it: at 180 days of 55,000 events a day, three reads of
    0.09-0.16 CPU s where one does); only the new days' ids when the table covers every other loaded day as it
    is now (see the module's docstring), unless `full` (`kpi refresh --full` reads every purchase)."""
    covered = _covered(con)
    since = None if full else _covered_up_to(con)
    if since is None:
        return FirstDays(con.sql(_purchases()[1]).to_arrow_table(), None, covered)
    new = con.sql(f"""
        SELECT transaction_id, min(event_date) AS first_date FROM ({_purchases()[0]})
        WHERE event_date > $since AND transaction_id IS NOT NULL
            AND transaction_id NOT IN (SELECT transaction_id FROM transaction_first_seen)
        GROUP BY transaction_id
    """, params={"since": since}).to_arrow_table()  # noqa: S608 - constant SQL
    return FirstDays(new, since, covered)


def days_changed(con: duckdb.DuckDBPyConnection, first: FirstDays | None = None) -> set[str]:
    """The YYYYMMDD days whose deduplicated purchases may differ from what the last refresh computed; `first`:
    `first_days` as the caller read it. With only the new days' ids (`FirstDays.since`), no other id moved: the
    days are those holding a purchase of a new id, all after `since`."""
    purchases, first_sql = _purchases()
    with _first_days(con, first) as now:
        if first is not None and first.since is not None:
            rows = con.execute(f"""
                SELECT DISTINCT event_date FROM ({purchases})
                WHERE event_date > $since AND transaction_id IN (SELECT transaction_id FROM ({now}))
            """, {"since": first.since}).fetchall()  # noqa: S608 - constant SQL
            return {day for (day,) in rows}
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


def save_first_seen(con: duckdb.DuckDBPyConnection, first: FirstDays | None = None) -> None:
    """Remember each id's first day as the refresh just computed it (inside the refresh's transaction): only
    the ids that are new, gone or moved are written. Deleting and inserting every id again made the commit
    rebuild the table's key index: 0.38 of a new day's 7 CPU s at 5M events (27,000 ids). `first`: `first_days`
    as the caller read it (no load since); then the loaded days it covers are recorded with the table."""
    with _first_days(con, first) as now:
        first_sql = now or _purchases()[1]
        if first is None or first.since is None:  # with `since`, no kept id moved or went: the new ones are added
            con.execute(f"""
                DELETE FROM transaction_first_seen AS o WHERE NOT EXISTS (
                    SELECT 1 FROM ({first_sql}) AS n WHERE n.transaction_id = o.transaction_id
                    AND n.first_date = o.first_date)
            """)  # noqa: S608 - constant SQL
        con.execute(f"""
            INSERT INTO transaction_first_seen SELECT * FROM ({first_sql}) AS n
            WHERE NOT EXISTS (SELECT 1 FROM transaction_first_seen AS o WHERE o.transaction_id = n.transaction_id)
        """)  # noqa: S608 - constant SQL
    _record_covered(con, first.covered if first is not None else _covered(con))


def _covered(con: duckdb.DuckDBPyConnection, up_to: str | None = None) -> tuple[str, int, int]:
    """The loaded days (up to the day `up_to`, YYYYMMDD): (the last, how many, a hash of each with its load id):
    a day reloaded (another load id), removed or loaded before the last changes it."""
    last, count, mark = con.execute(
        "SELECT coalesce(max(event_date), ''), count(*), coalesce(bit_xor(hash(event_date, load_id)), 0) "
        "FROM loaded_days WHERE $up_to IS NULL OR event_date <= $up_to", {"up_to": up_to}).fetchall()[0]
    return str(last), int(count), int(mark)


def _record_covered(con: duckdb.DuckDBPyConnection, covered: tuple[str, int, int]) -> None:
    """Record with `transaction_first_seen` the loaded days it was saved from, a hash of its rows and of the SQL
    reading the first days (its comment: digits, hex digits and colons only, made here of numbers)."""
    last, count, mark = covered
    note = ":".join([str(int(last)) if last else "", str(int(count)), str(int(mark)), *map(str, _rows_mark(con)),
                     _version()])
    con.execute(f"COMMENT ON TABLE transaction_first_seen IS '{note}'")


def _covered_up_to(con: duckdb.DuckDBPyConnection) -> str | None:
    """The last day of the loaded days the table was saved from, when those days are loaded as they were then,
    the table holds the rows it was saved with and the first days are read by the same SQL; else None (every
    purchase must be read). A comment of another form (none, an older one, someone's note) is no record."""
    from .schema.kept_reads import table_comment  # here: the schema's migrations import this module

    parts = (table_comment(con, "transaction_first_seen") or "").split(":")
    if len(parts) != 6 or not parts[0].isdigit() or parts[5] != _version():
        return None
    last, count, mark, rows, rows_mark, _ = parts
    try:
        saved = (last, int(count), int(mark)), (int(rows), int(rows_mark))
    except ValueError:
        return None
    return last if (_covered(con, last), _rows_mark(con)) == saved else None


def _rows_mark(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """`transaction_first_seen`'s row count and a hash of its rows (any row changed changes it)."""
    rows, mark = con.execute("SELECT count(*), coalesce(bit_xor(hash(transaction_id, first_date)), 0) "
                             "FROM transaction_first_seen").fetchall()[0]
    return int(rows), int(mark)


@functools.cache
def _version() -> str:
    """12 hex digits of SHA-256 over the SQL that reads each id's first day: first days kept by other code (another
    rule for what an id is) are read again."""
    return hashlib.sha256(_purchases()[1].encode()).hexdigest()[:12]


@contextlib.contextmanager
def first_purchases(con: duckdb.DuckDBPyConnection, first: FirstDays) -> Iterator[None]:
    """While in it, the temporary table `FIRST_PURCHASES` the refresh's statements read the purchases' history from
    (`warehouse_shape` then says so: `ExportShape.first_purchases`): each id's first day as `first` has it (with
    `since`, the table's ids and the new ones), one purchase row per id. At 180 days of 55,000 events a day a new
    day's three KPI statements read 53,000 rows there, not the purchases of 10M events (replayed: 0.235 -> 0.193,
    0.304 -> 0.267 and 1.12 -> 1.035 CPU s, the same rows); a full refresh's cost stays the same. The session
    days' statement keeps reading the events (`session_facts.facts_sql`: its rows are kept under its text)."""
    from generator.sql.export_shape import FIRST_PURCHASES
    from generator.sql.transactions import PURCHASE

    with _first_days(con, first) as now:
        kept = "" if first.since is None else "SELECT transaction_id, first_date FROM transaction_first_seen UNION ALL "
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE {FIRST_PURCHASES} AS
            SELECT first_date AS event_date, '{PURCHASE}' AS event_name,
                {{'transaction_id': transaction_id}} AS ecommerce
            FROM ({kept}{now})
        """)  # noqa: S608 - constant SQL
    try:
        yield
    finally:
        con.execute(f"DROP TABLE IF EXISTS {FIRST_PURCHASES}")


@contextlib.contextmanager
def _first_days(con: duckdb.DuckDBPyConnection, first: FirstDays | None) -> Iterator[str | None]:
    """`first`'s ids registered for the statements, as the text reading them; None without it (they read the
    events)."""
    if first is None:
        yield None
        return
    con.register(_FIRST_DAYS, first.ids)
    try:
        yield f"SELECT transaction_id, first_date FROM {_FIRST_DAYS}"
    finally:
        con.unregister(_FIRST_DAYS)
