"""Data quality once per loaded day (issue 13 §4): a refresh, full or not, checks a day again only when it was
(re)loaded or the checks changed, and still ends with the rows a refresh of a fresh store computes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from generator.plan.queries import compile_plan
from generator.rules.validate import validate_paths
from warehouse.connection import connect_store
from warehouse.refresh import refresh_kpis
from warehouse.schema import ARROW_SCHEMA
from warehouse.sources.demo import iter_demo_days
from warehouse.store import insert_events, run_load

REPO = Path(__file__).resolve().parents[2]

QUALITY_SQL = "SELECT * FROM event_quality ORDER BY ALL"
# what a day's quality rows count, straight from the stored events (no code of ours)
EVENTS_PER_DAY = """
SELECT strptime(event_date, '%Y%m%d')::DATE, event_name, count(*) FROM ga4_events GROUP BY ALL ORDER BY ALL
"""


class Days:
    """Some of the demo's days as a load source."""

    source, detail = "demo", "test days"

    def __init__(self, tables: list[tuple[str, pa.Table]]) -> None:
        self.tables = dict(tables)

    def plan(self, con: object) -> list[list[str]]:
        return [[day] for day in self.tables]

    def insert(self, con: duckdb.DuckDBPyConnection, batch: list[str]) -> None:
        for day in batch:
            insert_events(con, self.tables[day])


@pytest.fixture(scope="module")
def demo_days() -> list[tuple[str, pa.Table]]:
    return list(iter_demo_days(9_000, 9, 5, date(2024, 2, 29)))


@pytest.fixture(scope="module")
def compiled():
    result = validate_paths([REPO / "kpis"])
    return result.catalog, compile_plan(result.catalog)


def load(db: Path, tables: list[tuple[str, pa.Table]]) -> None:
    con = connect_store(db)
    try:
        run_load(con, Days(tables))  # type: ignore[arg-type]
    finally:
        con.close()


def refresh(db: Path, compiled, **kwargs) -> None:
    con = connect_store(db)
    try:
        refresh_kpis(con, *compiled, **kwargs)
    finally:
        con.close()


def read(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def corrupt(db: Path, day: str) -> None:
    """Overwrite a day's stored quality counts, so a test sees whether a refresh computed them again."""
    with duckdb.connect(str(db)) as con:
        con.execute("UPDATE event_quality SET events = -1 WHERE date = strptime($d, '%Y%m%d')::DATE", {"d": day})


def events_column(db: Path, day: str) -> list[int]:
    with duckdb.connect(str(db), read_only=True) as con:
        return [r[0] for r in con.execute("SELECT events FROM event_quality WHERE date = strptime($d, '%Y%m%d')::DATE",
                                          {"d": day}).fetchall()]


def with_transaction_id(table: pa.Table, tid: str) -> pa.Table:
    """The day's events with its first purchase carrying the transaction id `tid` (a copy of an earlier one)."""
    with duckdb.connect() as con:
        con.register("day", table)
        first = con.execute("SELECT min(event_timestamp) FROM day WHERE event_name = 'purchase'").fetchall()[0][0]
        out = con.sql("""
            SELECT * REPLACE (CASE WHEN event_name = 'purchase' AND event_timestamp = $first
                THEN struct_pack(transaction_id := $tid, purchase_revenue := ecommerce.purchase_revenue,
                                 total_item_quantity := ecommerce.total_item_quantity)
                ELSE ecommerce END AS ecommerce)
            FROM day""", params={"first": first, "tid": tid}).to_arrow_table()
    return out.select(ARROW_SCHEMA.names).cast(ARROW_SCHEMA)


def first_transaction_id(table: pa.Table) -> str:
    with duckdb.connect() as con:
        con.register("day", table)
        return con.execute("SELECT arg_min(ecommerce.transaction_id, event_timestamp) FROM day "
                           "WHERE event_name = 'purchase' AND ecommerce.transaction_id IS NOT NULL").fetchall()[0][0]


def test_a_full_refresh_reuses_the_quality_of_days_not_reloaded(tmp_path: Path, demo_days, compiled) -> None:
    db = tmp_path / "warehouse.duckdb"
    load(db, demo_days[:6])
    refresh(db, compiled)
    day, other = demo_days[2][0], demo_days[1][0]  # other: before it, so its duplicates cannot change
    expected = read(db, QUALITY_SQL)
    assert {(d, n, e) for d, n, e, *_ in expected} == set(read(db, EVENTS_PER_DAY))
    assert read(db, "SELECT count(*), count(DISTINCT checks_hash) FROM event_quality_days") == [(6, 1)]

    corrupt(db, day)
    corrupt(db, other)
    refresh(db, compiled, full=True)
    assert set(events_column(db, day)) == {-1}  # not checked again: nothing of that day changed

    load(db, [demo_days[2]])  # the day exported again: checked again, the others still reused
    refresh(db, compiled)
    assert -1 not in events_column(db, day)
    assert set(events_column(db, other)) == {-1}

    with duckdb.connect(str(db)) as con:  # checks of another spec or version: every day is checked again
        con.execute("UPDATE event_quality_days SET checks_hash = 'older'")
    refresh(db, compiled)
    assert read(db, QUALITY_SQL) == expected


@pytest.mark.parametrize("late", [True, False], ids=["late-day", "reloaded-day"])
def test_a_late_or_reloaded_day_rechecks_the_duplicates_of_the_days_after_it(tmp_path: Path, demo_days, compiled,
                                                                             late: bool) -> None:
    days = list(demo_days[:9])  # the copy's day is before the last 3 days, which a refresh used to check anyway
    tid = first_transaction_id(days[1][1])
    days[4] = (days[4][0], with_transaction_id(days[4][1], tid))  # a copy, 3 days on
    fresh = tmp_path / "fresh.duckdb"
    load(fresh, days)
    refresh(fresh, compiled)
    with duckdb.connect(str(fresh), read_only=True) as con:
        copies = con.execute("SELECT sum(duplicate_transactions) FROM event_quality "
                             "WHERE date = strptime($d, '%Y%m%d')::DATE", {"d": days[4][0]}).fetchall()[0][0]
    assert copies >= 1  # the copy on day 5 counts as a duplicate of day 2's transaction

    db = tmp_path / "warehouse.duckdb"
    if late:  # day 2 arrives after the days around it were checked
        load(db, days[:1] + days[2:])
    else:  # day 2 first loaded without that transaction, then exported again with it
        without = with_transaction_id(days[1][1], "another-id")
        load(db, [days[0], (days[1][0], without), *days[2:]])
    refresh(db, compiled)
    load(db, [days[1]])
    refresh(db, compiled)
    assert read(db, QUALITY_SQL) == read(fresh, QUALITY_SQL)
