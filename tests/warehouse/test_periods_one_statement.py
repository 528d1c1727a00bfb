"""All the dashboard periods in one statement (issue 13) count what each period's own statement counts.

`kpi refresh` counts the distinct-unit KPIs over every dashboard period in one statement
(`generator/sql/periods.py`). The distinct users of two overlapping periods are recomputed here in plain SQL
over the store's raw events; the rest is compared, row for row, with one statement per period (the form the
refresh used before, still used for a plan the one statement cannot take), over KPIs with first-ever
users, two conversion windows, deduplicated purchases and channel breakdowns (the attribution lookback).
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from stored_events import differing, old_store
from typer.testing import CliRunner

from generator.plan.queries import compile_plan
from generator.rules.validate import validate_paths
from generator.sql import render_plan_sql, sql_parameters
from generator.sql.batch import statement_reach
from generator.sql.period_parameters import apart, in_statements, keyed, parameters_in, period_parameters
from generator.sql.periods import PeriodsUnsupported
from kpibridge.cli import app as kpi_app
from warehouse.connection import connect_store
from warehouse.flat_params import flatten, params_of, warehouse_shape
from warehouse.period_values import (
    compute_period_values,
    dashboard_periods,
    distinct_kpis,
    run_bucketed,
    run_periods,
)
from warehouse.statements import over_raw, plan_sql, users_hash_apart

REPO = Path(__file__).resolve().parents[2]
END = date(2026, 3, 31)
HEADER = ("version: 1\nkpi: {kpi}\ntitle: {kpi}\ndescription: A test KPI.\nobjective: Audit\n"
          "owner: audit@shop.example\nteam: audit\ndirection: up\n")
EXTRA_KPIS = {
    "active_users": "measure:\n  users: {}\nbreakdowns: [device_category]\n",
    "purchasers": "measure:\n  users_with: purchase\nbreakdowns: [channel]\n",
    "new_sign_ups": "measure:\n  users_with: {event: sign_up, first_ever: true}\nbreakdowns: [device_category]\n",
    # a second conversion window (the example's cart_to_purchase_1d has one day)
    "sign_up_to_purchase_2d": "measure:\n  conversion:\n    from: {event: sign_up, first_ever: true}\n"
                              "    to: purchase\n    within: 2d\nformat: percent\n",
}
# a shorter window whose sessions (its channel breakdown) differ from the widest scope's: one statement per period
UNSPREADABLE = {"cart_to_purchase_1d_by_channel": "measure:\n  conversion:\n    from: add_to_cart\n    to: purchase\n"
                                                  "    within: 1d\n    per: session\nbreakdowns: [channel]\n"
                                                  "format: percent\n"}
USERS = """
    SELECT count(DISTINCT user_pseudo_id) FROM ga4_events WHERE event_date BETWEEN $a AND $b
"""
USERS_BY_DEVICE = """
    SELECT coalesce(nullif(device.category, ''), '(not set)'), count(DISTINCT user_pseudo_id) FROM ga4_events
    WHERE event_date BETWEEN $a AND $b GROUP BY 1
"""


def _kpis(root: Path, extra: dict[str, str]) -> Path:
    kpis = root / "kpis"
    shutil.copytree(REPO / "kpis", kpis)
    (kpis / "audit").mkdir()
    for kpi, body in extra.items():
        (kpis / "audit" / f"{kpi}.yaml").write_text(HEADER.format(kpi=kpi) + body)
    return kpis


def _plan(kpis: Path):
    validated = validate_paths([kpis])
    assert not [i for i in validated.report.issues if i.level.value == "error"], validated.report.issues
    return compile_plan(validated.catalog)


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """60 demo days ending on END (with repeated transaction ids and sign-ups)."""
    root = tmp_path_factory.mktemp("one_statement")
    path = root / "warehouse.duckdb"
    result = CliRunner().invoke(kpi_app, ["load", "demo", "--events", "15000", "--days", "60", "--seed", "5",
                                          "--end-date", END.isoformat(), "--db", str(path)])
    assert result.exit_code == 0, result.output
    return path


def _ymd(day: date) -> str:
    return day.strftime("%Y%m%d")


def _key(row: dict) -> tuple:
    return row["kpi_id"], row["period_start"], row["period_end"], row["breakdown"], row["breakdown_value"]


def _one_per_period(con, plan, ids, periods) -> dict[tuple, tuple]:
    sql = over_raw(render_plan_sql(plan, "duckdb", ids, bucket="period"))
    return {_key(r): (r["numerator"], r["denominator"], r["value"])
            for start, end in periods for r in run_bucketed(con, plan, ids, "period", start, end, sql)}


def test_two_overlapping_periods_count_the_users_plain_sql_counts(store, tmp_path):
    plan = _plan(_kpis(tmp_path, EXTRA_KPIS))
    periods = [(date(2026, 3, 4), END), (date(2026, 3, 18), date(2026, 3, 24))]  # the second inside the first
    with duckdb.connect(str(store), read_only=True) as con:
        rows = [r for rs in run_periods(con, plan, ["active_users"], periods).values() for r in rs]
        for start, end in periods:
            params = {"a": _ymd(start), "b": _ymd(end)}
            users, = con.execute(USERS, params).fetchone()
            by_device = dict(con.execute(USERS_BY_DEVICE, params).fetchall())
            mine = {r["breakdown_value"]: r["value"] for r in rows if (r["period_start"], r["period_end"]) == (start, end)}
            assert mine.pop("") == users
            assert mine == by_device
            assert users > 100 and len(by_device) > 1
    assert {(r["period_start"], r["period_end"]) for r in rows} == set(periods)


@pytest.mark.parametrize("anchor", [END, date(2026, 2, 28)])  # 28 Feb: two periods start on 1 Jan, one statement
def test_every_dashboard_period_counts_what_its_own_statement_counts(store, tmp_path, anchor):
    plan = _plan(_kpis(tmp_path, EXTRA_KPIS))
    ids = distinct_kpis(plan)
    assert {"new_sign_ups", "sign_up_to_purchase_2d", "cart_to_purchase_1d", "purchasers"} <= set(ids)
    periods = dashboard_periods(anchor)
    with duckdb.connect(str(store), read_only=True) as con:
        together = {_key(r): (r["numerator"], r["denominator"], r["value"])
                    for rs in run_periods(con, plan, ids, periods).values() for r in rs}
        expected = _one_per_period(con, plan, ids, periods)
    assert together == expected
    counted = {(k, s) for k, s, *_ in expected}
    assert len(counted) > 5 * len(ids)  # most periods hold data (those before the first loaded day do not)


def test_ranges_split_over_statements_to_fit_memory_count_what_one_statement_counts(store, tmp_path):
    plan = _plan(_kpis(tmp_path, EXTRA_KPIS))
    ids = distinct_kpis(plan)
    periods = dashboard_periods(END)
    with duckdb.connect(str(store), read_only=True) as con:
        together = {_key(r): (r["numerator"], r["denominator"], r["value"])
                    for rs in run_periods(con, plan, ids, periods, budget=10**12).values() for r in rs}
        apart = {_key(r): (r["numerator"], r["denominator"], r["value"])
                 for rs in run_periods(con, plan, ids, periods, budget=1).values() for r in rs}
    assert apart == together
    assert len({(s, e) for _, s, e, *_ in together}) > 5


def test_ranges_are_packed_into_statements_within_the_budget():
    days = {date(2026, 3, 1) + timedelta(days=n): 100 for n in range(31)}
    events = lambda day: days.get(day, 0)  # noqa: E731
    march, week, last_week, fortnight = ((date(2026, 3, 1), date(2026, 3, 31)), (date(2026, 3, 2), date(2026, 3, 8)),
                                         (date(2026, 3, 25), date(2026, 3, 31)), (date(2026, 3, 9), date(2026, 3, 22)))
    def packed(periods: list, budget: int, reach: int) -> list:  # keyed by themselves, for reading
        return in_statements({p: p for p in periods}, events, budget, reach)

    # 3,100 events, 700, 700 and 1,400: march alone, the others together within 3,000
    assert packed([week, march, last_week, fortnight], 3_000, 0) == [[march], [week, fortnight, last_week]]
    assert packed([week, march], 10**9, 0) == [[march, week]]
    # the days a conversion window reaches after a range are spread too: 800, 1,500 and 700 (1 April: none)
    assert packed([week, last_week, fortnight], 2_300, 1) == [[week, fortnight], [last_week]]
    # ranges sharing a start day share a statement (each range has a key of its own: `range_key`)
    first_week = (date(2026, 3, 1), date(2026, 3, 7))
    assert packed([march, first_week], 10**9, 0) == [[first_week, march]]


def test_ranges_whose_reads_do_not_meet_go_in_statements_of_their_own():
    """A statement reads every day from its first range's lookback to its last range's end: the same week last
    year and this week in one statement read the year between them. Ranges whose reads (30 days of lookback, the
    days, the reach) meet or touch stay together; a run of them apart from the next is a statement of its own."""
    day = date(2026, 3, 1)
    week_last_year = (date(2025, 3, 2), date(2025, 3, 8))
    this_week, last_week, march = (day + timedelta(days=21), day + timedelta(days=27)), \
        (day + timedelta(days=14), day + timedelta(days=20)), (day, day + timedelta(days=30))
    ranges = {r: r for r in (week_last_year, this_week, last_week, march)}
    assert apart(list(ranges), ranges, 1) == [[week_last_year], [march, last_week, this_week]]
    # a range whose lookback starts the day after another's reach ends touches it; one more day apart does not
    first, touching, beyond = (day, day + timedelta(days=6)), (day + timedelta(days=38), day + timedelta(days=40)), \
        (day + timedelta(days=39), day + timedelta(days=40))
    assert apart([first, touching], {first: first, touching: touching}, 1) == [[first, touching]]
    assert apart([first, beyond], {first: first, beyond: beyond}, 1) == [[first], [beyond]]


def test_ranges_apart_count_what_each_range_alone_counts(store, tmp_path):
    """The first three loaded days and the last week, far enough apart to be counted in two statements, count
    what one statement per range counts (first-ever users, two conversion windows, purchases, channels)."""
    plan = _plan(_kpis(tmp_path, EXTRA_KPIS))
    ids = distinct_kpis(plan)
    first = END - timedelta(days=59)
    periods = [(first, first + timedelta(days=2)), (END - timedelta(days=6), END)]
    reach = statement_reach(plan, ids)
    assert len(apart(periods, {p: p for p in periods}, reach)) == 2  # what this test is about
    with duckdb.connect(str(store), read_only=True) as con:
        counted = {_key(r): (r["numerator"], r["denominator"], r["value"])
                   for rs in run_periods(con, plan, ids, periods, budget=10**12).values() for r in rs}
        expected = _one_per_period(con, plan, ids, periods)
    assert counted == expected
    assert {(s, e) for _, s, e, *_ in counted} == set(periods)


def test_a_plan_the_one_statement_cannot_take_is_counted_per_period(store, tmp_path):
    plan = _plan(_kpis(tmp_path, {**EXTRA_KPIS, **UNSPREADABLE}))
    ids = distinct_kpis(plan)
    with pytest.raises(PeriodsUnsupported):
        render_plan_sql(plan, "duckdb", ids, bucket="period", many_periods=True)
    with duckdb.connect(str(store)) as con:
        loaded = {d: datetime(2026, 4, 1) for d, in con.execute("SELECT event_date FROM loaded_days").fetchall()}
        table, _ = compute_period_values(con, plan, loaded, full=True)
        first = END - timedelta(days=59)  # the first loaded day: a period wholly before it is not counted
        expected = _one_per_period(con, plan, ids, [(s, e) for s, e in dashboard_periods(END) if e >= first])
    stored = {_key(r): (r["numerator"], r["denominator"], r["value"]) for r in table.to_pylist()
              if r["grain"] == "period"}
    assert stored == expected


def test_periods_starting_before_the_first_loaded_day_count_what_their_own_statements_count(store, tmp_path):
    """Ranges that differ only before the first loaded day (on 30 Mar: the last 90 days from 31 Dec, the
    quarter to date from 1 Jan) are counted once by the refresh, and each stores exactly what its own
    statement, from its own start, counts."""
    plan = _plan(_kpis(tmp_path, EXTRA_KPIS))
    ids = distinct_kpis(plan)
    first, anchor = END - timedelta(days=59), END - timedelta(days=1)
    periods = [(s, e) for s, e in dashboard_periods(anchor) if e >= first]
    assert len({s for s, _ in periods if s < first}) >= 2  # what this test is about
    with duckdb.connect(str(store)) as con:
        loaded = {d: datetime(2026, 4, 1) for d, in con.execute("SELECT event_date FROM loaded_days").fetchall()
                  if d <= _ymd(anchor)}
        table, _ = compute_period_values(con, plan, loaded, full=True)
        expected = _one_per_period(con, plan, ids, periods)
    stored = {_key(r): (r["numerator"], r["denominator"], r["value"]) for r in table.to_pylist()
              if r["grain"] == "period"}
    # (counted from users' spans, parts added up: a sum of money may differ in its last binary digit)
    assert differing(stored, expected) == []
    assert {(s, e) for _, s, e, *_ in stored} == set(periods)


def test_pairing_users_by_their_hash_counts_what_pairing_their_ids_counts(store, tmp_path):
    """The refresh pairs each user (and session) with its range by `hash(user_pseudo_id)` where no two users
    of the store share one (`users_hash_apart`), else by the id itself: both statements give the same rows."""
    plan = _plan(_kpis(tmp_path, EXTRA_KPIS))
    ids = distinct_kpis(plan)
    hashed, by_id = (over_raw(render_plan_sql(plan, "duckdb", ids, bucket="period", many_periods=True, hashed_users=h))
                     for h in (True, False))
    assert "HASH(s.user_pseudo_id)" in hashed and "HASH(" not in by_id
    with duckdb.connect(str(store), read_only=True) as con:
        assert users_hash_apart(con)
        params = period_parameters(keyed(dashboard_periods(END)), statement_reach(plan, ids))
        rows = [sorted(con.execute(sql, parameters_in(sql, params)).fetchall(), key=repr) for sql in (hashed, by_id)]
        assert rows[0] == rows[1]
        assert len(rows[0]) > 5 * len(ids)


@pytest.mark.parametrize("bucket", ["day", "week"])
def test_keying_sessions_by_the_users_hash_counts_what_keying_them_by_id_counts(store, tmp_path, bucket):
    """Every KPI statement keys a session by (hash(user_pseudo_id), ga_session_id) where the users hash apart:
    the same rows as by (user_pseudo_id, ga_session_id), for every KPI of the examples and the audit ones."""
    plan = _plan(_kpis(tmp_path, EXTRA_KPIS))
    ids = None if bucket == "day" else distinct_kpis(plan)
    texts = [over_raw(render_plan_sql(plan, "duckdb", ids, bucket=bucket, hashed_users=h)) for h in (True, False)]
    assert "CAST(HASH(user_pseudo_id) AS UINT128) << 64" in texts[0] and "HASH(" not in texts[1]
    with duckdb.connect(str(store), read_only=True) as con:
        params = sql_parameters(END - timedelta(days=59), END)
        rows = [sorted(con.execute(sql, params).fetchall(), key=repr) for sql in texts]
    assert rows[0] == rows[1]
    assert len(rows[0]) > (500 if bucket == "day" else 50)


def test_a_plan_whose_only_session_table_is_a_conversion_windows_counts_what_each_period_counts(store, tmp_path):
    """The only KPI reading sessions is a conversion by channel, so the one session table is that of its window
    (`session_firsts_plus_2d`, no `session_firsts`): the lookback's clicks are kept for its users. A refresh
    failed on this plan ("Table with name session_firsts does not exist") until stop 34."""
    kpis = tmp_path / "kpis"
    kpis.mkdir()
    shutil.copy(REPO / "kpis" / "events.yaml", kpis / "events.yaml")
    (kpis / "cart_by_channel.yaml").write_text(HEADER.format(kpi="cart_by_channel") + UNSPREADABLE[
        "cart_to_purchase_1d_by_channel"].replace("per: session", "per: user"))
    plan = _plan(kpis)
    ids = distinct_kpis(plan)
    with duckdb.connect(str(store)) as con:
        loaded = {d: datetime(2026, 4, 1) for d, in con.execute("SELECT event_date FROM loaded_days").fetchall()}
        table, _ = compute_period_values(con, plan, loaded, full=True)
        first = END - timedelta(days=59)
        expected = _one_per_period(con, plan, ids, [(s, e) for s, e in dashboard_periods(END) if e >= first])
    stored = {_key(r): (r["numerator"], r["denominator"], r["value"]) for r in table.to_pylist()
              if r["grain"] == "period"}
    assert differing(stored, expected) == []
    assert len({b for _, _, _, b, _ in stored}) == 2 and len(stored) > 20  # the totals and the channels


@pytest.mark.parametrize("bucket", ["day", "week", "periods"])
def test_reading_a_sessions_click_from_its_events_row_counts_what_carrying_the_record_counts(store, tmp_path, bucket):
    """The warehouse numbers its events (`events.event_row`, the row id: `ExportShape.event_rows`), so each KPI
    statement keeps the row of a session's first click through its groupings and reads the click from that
    row alone (`sessions.session_picks`); a view over export files has no such column and carries the click's
    record as before. Both give the same rows, for every KPI of the examples and the audit ones (channel
    breakdowns, carried clicks of the lookback, conversions, first-ever users), per day, week and period."""
    plan = _plan(_kpis(tmp_path, EXTRA_KPIS))
    ids = None if bucket == "day" else distinct_kpis(plan)
    with duckdb.connect(str(store), read_only=True) as con:
        shape = warehouse_shape(con)
        assert shape.event_rows
        (rows, distinct), = con.execute("SELECT count(*), count(DISTINCT event_row) FROM events").fetchall()
        assert rows == distinct > 10_000
        many = bucket == "periods"
        texts = [render_plan_sql(plan, "duckdb", ids, bucket="period" if many else bucket, many_periods=many,
                                 hashed_users=True, export=dataclasses.replace(shape, event_rows=numbered))
                 for numbered in (True, False)]
        assert "session_picks" in texts[0] and re.search(r"\bevent_row\b", texts[1]) is None
        params = (period_parameters(keyed(dashboard_periods(END)), statement_reach(plan, ids))
                  if many else sql_parameters(END - timedelta(days=59), END))
        found = [sorted(con.execute(sql, parameters_in(sql, params)).fetchall(), key=repr) for sql in texts]
    assert found[0] == found[1]
    channels = {r[3] for r in found[0] if r[2] == "channel"}  # breakdown_value of the channel rows
    assert len(found[0]) > (500 if bucket == "day" else 50) and len(channels) > 3


def test_a_store_made_before_its_events_were_numbered_reads_clicks_as_records_until_migrated(store, tmp_path):
    """A store of schema 16 (its `events` view without `event_row`), opened read-only, is not migrated: its KPI
    statements carry the click records as before; opened to write, it is migrated (17 numbers its events, 19 keeps
    them as raw files and `slim_events`) and the statements read the clicks from their rows. Both count the same
    rows."""
    old = tmp_path / "old.duckdb"
    old_store(old, 16, store).close()
    plan = _plan(_kpis(tmp_path, {}))
    params = sql_parameters(END - timedelta(days=59), END)
    found = []
    for read_only in (True, False):
        con = connect_store(old, read_only=read_only)
        try:
            if not read_only:  # migrated: the refresh's first step, the params its statements read as columns
                flatten(con, params_of(con, plan))
            assert warehouse_shape(con).event_rows is not read_only
            sql = plan_sql(con, plan)
            assert ("session_picks" in sql) is not read_only
            found.append(sorted(con.execute(sql, params).fetchall(), key=repr))
        finally:
            con.close()
    assert found[0] == found[1] and len(found[0]) > 500
