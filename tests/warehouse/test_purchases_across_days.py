"""Purchases count once per transaction id across the whole history (issue 10 §3), whatever the loading order.

An export loaded in two halves with a `kpi refresh` between them must give exactly the values of one full load:
with a purchase repeated days later (a reloaded thank-you page, in the second half) and an earlier day that
arrives late (its purchase makes a later, already computed day's copy a duplicate). The expected purchases and
revenue per day are counted here in plain Python over the same events, never by our SQL.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from generator.plan.queries import compile_plan
from generator.rules.validate import validate_paths
from warehouse.connection import connect_store
from warehouse.first_seen import FirstDays, days_changed, first_days
from warehouse.refresh import refresh_kpis
from warehouse.schema import ARROW_SCHEMA
from warehouse.sources.arrow_days import ArrowDaysSource
from warehouse.sources.demo import iter_demo_days
from warehouse.store import run_load

REPO = Path(__file__).resolve().parents[2]
DEMO = {"events": 12_000, "days": 10, "seed": 11, "end_date": date(2024, 5, 10)}
DAY_MICROS = 86_400_000_000
PURCHASES_KPI = """version: 1
kpi: purchases
title: Purchases
description: Completed orders, one per transaction id.
objective: Grow online revenue
owner: growth-lead@shop.example
team: growth
measure:
  count: {event: purchase}
breakdowns: [channel]
"""
VALUES = "SELECT * EXCLUDE (computed_at) FROM kpi_values ORDER BY ALL"
PERIODS = "SELECT * EXCLUDE (computed_at) FROM kpi_period_values ORDER BY ALL"


def _purchases(table: pa.Table) -> list[dict]:
    return [r for r in table.to_pylist() if r["event_name"] == "purchase" and (r["ecommerce"] or {}).get(
        "transaction_id") not in (None, "", "(not set)")]


def _copy_to(row: dict, day: str, micros: int) -> pa.Table:
    """The purchase `row` sent again on `day` at `micros` (same transaction id, same session)."""
    return pa.Table.from_pylist([{**row, "event_date": day, "event_timestamp": micros}], schema=ARROW_SCHEMA)


@pytest.fixture(scope="module")
def export() -> dict[str, pa.Table]:
    """Ten demo days, plus: day 2's first order sent again on day 9, and day 6's first order sent on day 4."""
    days = dict(iter_demo_days(**DEMO))
    names = sorted(days)
    repeated = _purchases(days[names[1]])[0]
    late = _purchases(days[names[5]])[0]
    day9_start = min(days[names[8]].column("event_timestamp").to_pylist())
    day4_start = min(days[names[3]].column("event_timestamp").to_pylist())
    days[names[8]] = pa.concat_tables([days[names[8]], _copy_to(repeated, names[8], day9_start + 3600_000_000)])
    days[names[3]] = pa.concat_tables([days[names[3]], _copy_to(late, names[3], day4_start + 3600_000_000)])
    return days


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kpis") / "kpis"
    shutil.copytree(REPO / "kpis", folder)
    (folder / "revenue" / "purchases.yaml").write_text(PURCHASES_KPI, encoding="utf-8")
    result = validate_paths([folder])
    assert not result.report.errors, result.report.errors
    return result.catalog, compile_plan(result.catalog)


def _load_and_refresh(db: Path, compiled, *batches: dict[str, pa.Table]) -> None:
    catalog, plan = compiled
    for batch in batches:
        con = connect_store(db)
        try:
            run_load(con, ArrowDaysSource(batch))
            refresh_kpis(con, catalog, plan)
        finally:
            con.close()


def _read(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def _expected(days: dict[str, pa.Table]) -> dict[str, tuple[int, float]]:
    """Per day: (purchases, revenue), each transaction id once over the whole history, the earliest winning (by
    day, then by time: a copy on a later day with an earlier time is still the later one)."""
    rows = [r for t in days.values() for r in t.to_pylist() if r["event_name"] == "purchase"]
    rows.sort(key=lambda r: (r["event_date"], r["event_timestamp"]))
    seen: set[str] = set()
    out: dict[str, tuple[int, float]] = {}
    for r in rows:
        tid = (r["ecommerce"] or {}).get("transaction_id")
        if tid in ("", "(not set)"):
            tid = None
        if tid is not None:
            if tid in seen:
                continue
            seen.add(tid)
        value = next((p["value"] for p in r["event_params"] if p["key"] == "value"), None) or {}
        number = next((float(v) for v in (value.get("int_value"), value.get("float_value"), value.get("double_value"),
                                          value.get("string_value")) if v is not None), 0.0)
        count, revenue = out.get(r["event_date"], (0, 0.0))
        out[r["event_date"]] = (count + 1, revenue + number)
    return out


def _assert_stored_as_expected(db: Path, expected: dict[str, tuple[int, float]]) -> None:
    """The store's purchases and revenue per day (totals) are those counted in Python (`_expected`)."""
    stored = {d.strftime("%Y%m%d"): (n, r) for d, n, r in _read(db, """
        SELECT p.date, p.value, r.value FROM kpi_values p JOIN kpi_values r USING (date, breakdown, breakdown_value)
        WHERE p.kpi_id = 'purchases' AND r.kpi_id = 'revenue' AND p.breakdown = '' ORDER BY 1""")}
    assert {d: n for d, (n, _) in stored.items()} == {d: float(n) for d, (n, _) in expected.items()}
    for day, (_, revenue) in expected.items():
        assert stored[day][1] == pytest.approx(revenue, rel=1e-12), day


def test_two_halves_with_a_refresh_between_give_the_values_of_one_full_load(tmp_path: Path, export, compiled) -> None:
    names = sorted(export)
    first = {d: export[d] for d in names if d != names[3] and d < names[6]}  # day 4 arrives late
    second = {d: export[d] for d in names if d not in first}
    _load_and_refresh(tmp_path / "halves.duckdb", compiled, first, second)
    _load_and_refresh(tmp_path / "whole.duckdb", compiled, export)

    assert _read(tmp_path / "halves.duckdb", VALUES) == _read(tmp_path / "whole.duckdb", VALUES)
    assert _read(tmp_path / "halves.duckdb", PERIODS) == _read(tmp_path / "whole.duckdb", PERIODS)

    expected = _expected(export)
    _assert_stored_as_expected(tmp_path / "halves.duckdb", expected)
    # the two orders sent again count on their first day only: not on day 9, and on day 4 instead of day 6
    naive = {d: len({(r["ecommerce"] or {}).get("transaction_id") for r in _purchases(export[d])}) for d in names}
    assert expected[names[8]][0] < naive[names[8]] + _without_id(export[names[8]])
    assert expected[names[5]][0] < naive[names[5]] + _without_id(export[names[5]])


def _without_id(table: pa.Table) -> int:
    return sum(1 for r in table.to_pylist() if r["event_name"] == "purchase"
               and (r["ecommerce"] or {}).get("transaction_id") in (None, "", "(not set)"))


def test_a_day_reloaded_without_an_order_lets_its_later_copy_count(tmp_path: Path, export, compiled) -> None:
    """Day 4 reloaded without the order it shared with day 6: day 6 (not reloaded) counts it again."""
    names = sorted(export)
    db = tmp_path / "reload.duckdb"
    _load_and_refresh(db, compiled, export)
    late_id = _purchases(export[names[5]])[0]["ecommerce"]["transaction_id"]
    keep = [not (r["event_name"] == "purchase" and (r["ecommerce"] or {}).get("transaction_id") == late_id)
            for r in export[names[3]].to_pylist()]
    fixed = {names[3]: export[names[3]].filter(pa.array(keep))}
    _load_and_refresh(db, compiled, fixed)

    expected = _expected({**export, **fixed})
    stored = dict(_read(db, "SELECT strftime(date, '%Y%m%d'), value FROM kpi_values "
                            "WHERE kpi_id = 'purchases' AND breakdown = ''"))
    assert stored == {d: float(n) for d, (n, _) in expected.items()}
    assert expected[names[5]][0] == _expected(export)[names[5]][0] + 1
    # what the next refresh compares with: each id's first day, the moved one included
    first = dict(_read(db, "SELECT transaction_id, first_date FROM transaction_first_seen"))
    assert first == _first_days({**export, **fixed}) and first[late_id] == names[5]


def _first_days(days: dict[str, pa.Table]) -> dict[str, str]:
    """Each purchase transaction id's first day (GA4's placeholders for a missing id are no id)."""
    out: dict[str, str] = {}
    for r in _purchases(pa.concat_tables(days.values())):
        tid = r["ecommerce"]["transaction_id"]
        out[tid] = min(out.get(tid, r["event_date"]), r["event_date"])
    return out


def test_a_day_with_events_but_no_purchase_stores_zero(tmp_path: Path, export, compiled) -> None:
    """Zero is zero (issue 10 §8): day 3 loses its purchases; `purchases` and `revenue` store 0 there, a day
    without any event stays missing, and the ratio `average_order_value` (0 / 0) stays missing too."""
    names = sorted(export)
    no_purchase = export[names[2]].filter(pa.array([r != "purchase" for r in
                                                    export[names[2]].column("event_name").to_pylist()]))
    assert no_purchase.num_rows > 0
    days = {**{d: export[d] for d in names if d != names[4]}, names[2]: no_purchase}  # day 5: no data at all
    db = tmp_path / "zero.duckdb"
    _load_and_refresh(db, compiled, days)
    stored = {(k, d.strftime("%Y%m%d")): v for k, d, v in _read(db, """
        SELECT kpi_id, date, value FROM kpi_values WHERE breakdown = ''
        AND kpi_id IN ('purchases', 'revenue', 'average_order_value')""")}
    expected = _expected(days)
    assert names[2] not in expected  # computed independently: no purchase that day
    for kid in ("purchases", "revenue"):
        assert stored[(kid, names[2])] == 0.0
        assert (kid, names[4]) not in stored
        assert sorted(d for k, d in stored if k == kid) == sorted(days)
    assert ("average_order_value", names[2]) not in stored


def test_a_copy_on_a_later_day_with_an_earlier_time_counts_on_neither_day_twice(tmp_path: Path, export,
                                                                                 compiled) -> None:
    """An order sent again the next day with a clock an hour behind its first day's time (a client's clock, a
    property's time zone changed): the order counts on its first day, whether the refresh reads the two days in
    one statement (one load) or apart (two loads, a refresh between them), as counted here in Python."""
    names = sorted(export)
    days = dict(export)
    order = _purchases(days[names[6]])[-1]
    days[names[7]] = pa.concat_tables([days[names[7]], _copy_to(order, names[7], order["event_timestamp"] - 3600_000_000)])
    _load_and_refresh(tmp_path / "whole.duckdb", compiled, days)
    _load_and_refresh(tmp_path / "apart.duckdb", compiled, {d: days[d] for d in names[:7]},
                      {d: days[d] for d in names[7:]})

    assert _read(tmp_path / "apart.duckdb", VALUES) == _read(tmp_path / "whole.duckdb", VALUES)
    expected = _expected(days)
    _assert_stored_as_expected(tmp_path / "whole.duckdb", expected)
    naive = len({(r["ecommerce"] or {}).get("transaction_id") for r in _purchases(days[names[7]])})
    assert expected[names[7]][0] == naive - 1 + _without_id(days[names[7]])  # the copy is not day 8's order


def _first_days_read(db: Path) -> FirstDays:
    con = connect_store(db)
    try:
        return first_days(con)
    finally:
        con.close()


def test_a_new_day_reads_only_the_ids_it_brings_and_every_first_day_stays_right(tmp_path: Path, export,
                                                                                  compiled) -> None:
    """After a refresh, days loaded after the last one can move no id's first day: the next refresh reads only
    the ids first seen on them (`first_seen.FirstDays.since`), and the table of first days equals Python's over
    every loaded purchase. A day reloaded, a day loaded before the last, or a table whose rows changed: every
    purchase is read again."""
    names = sorted(export)
    early, later = {d: export[d] for d in names[:7]}, {d: export[d] for d in names[7:]}
    db = tmp_path / "daily.duckdb"
    _load_and_refresh(db, compiled, early)
    assert _first_days_read(db).since == names[6]
    con = connect_store(db)
    try:
        run_load(con, ArrowDaysSource(later))
        first = first_days(con)
        changed = days_changed(con, first)
    finally:
        con.close()
    assert first.since == names[6]
    before, every = _first_days(early), _first_days(export)
    assert dict(zip(*first.ids.to_pydict().values(), strict=True)) == {
        tid: day for tid, day in every.items() if tid not in before}
    assert changed == {r["event_date"] for d in names[7:] for r in _purchases(export[d])
                       if r["ecommerce"]["transaction_id"] not in before}
    assert _first_days({names[1]: export[names[1]]}).keys() & _first_days({names[8]: export[names[8]]}).keys()
    con = connect_store(db)
    try:
        refresh_kpis(con, *compiled)  # a refresh of what was loaded: the new days, their ids only
    finally:
        con.close()
    assert dict(_read(db, "SELECT transaction_id, first_date FROM transaction_first_seen")) == every
    _load_and_refresh(tmp_path / "whole.duckdb", compiled, export)
    assert _read(db, VALUES) == _read(tmp_path / "whole.duckdb", VALUES)
    assert _first_days_read(db).since == names[9]

    _load_and_refresh(db, compiled, {names[2]: export[names[2]]})  # reloaded as it was: another load
    assert dict(_read(db, "SELECT transaction_id, first_date FROM transaction_first_seen")) == every
    assert _first_days_read(db).since == names[9]
    con = connect_store(db)
    try:
        assert first_days(con, full=True).since is None  # `kpi refresh --full` reads every purchase
    finally:
        con.close()
    moved = next(tid for tid, day in every.items() if day == names[1])
    with duckdb.connect(str(db)) as con:  # a row changed by hand, the count kept: every purchase is read again
        con.execute("UPDATE transaction_first_seen SET first_date = $d WHERE transaction_id = $t",
                    {"d": names[8], "t": moved})
    assert _first_days_read(db).since is None
    _load_and_refresh(db, compiled, {names[9]: export[names[9]]})
    assert dict(_read(db, "SELECT transaction_id, first_date FROM transaction_first_seen")) == every
    assert _read(db, VALUES) == _read(tmp_path / "whole.duckdb", VALUES)
    for note in ("owned by: data team: see wiki: x", "20240512:12:abc:79:1:x", ""):  # no record of ours
        with duckdb.connect(str(db)) as con:
            con.execute(f"COMMENT ON TABLE transaction_first_seen IS '{note}'")
        assert _first_days_read(db).since is None
    with duckdb.connect(str(db)) as con:
        con.execute("DELETE FROM transaction_first_seen WHERE first_date = $d", {"d": names[0]})
    assert _first_days_read(db).since is None  # its rows changed: every purchase is read again
    late = tmp_path / "late.duckdb"
    _load_and_refresh(late, compiled, {d: export[d] for d in names[:7] if d != names[3]})
    con = connect_store(late)
    try:
        run_load(con, ArrowDaysSource({names[3]: export[names[3]]}))
        assert first_days(con).since is None  # a day before the last one: its ids can move others' first days
    finally:
        con.close()
