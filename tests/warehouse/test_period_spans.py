"""Ranges counted from where each user's days fall (`warehouse/period_spans.py`) give exactly what counting each
range in full gives (`period_values.run_periods`, whose numbers `test_period_values.py` checks against plain
SQL), and every range's sessions, recounted here in plain SQL from the raw events, are the stored ones.

The store is the demo property plus traps at the ranges' edges, in each export era: a session over the midnight
between two weeks, a conversion window over the midnight between two months, a transaction id two users carry
(in different weeks), a cookieless ping, a day of pings only, a user with one day and a user with days a month apart,
a session over midnight with two clicks that a later session carries from the attribution lookback;
and, apart, a transaction id a cookieless ping and a user carry (no user's part says which purchase counts).
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ga4_rows import event, last_click
from stored_events import SESSIONS, differing
from typer.testing import CliRunner

from generator.compile import compile_paths
from generator.plan.formula import parse_formula
from kpibridge.cli import app
from warehouse.period_shift import _homogeneous, counts_something, ids_shared_with_pings, summable
from warehouse.period_spans import spanned_periods
from warehouse.period_values import (
    PeriodJob,
    calendar_buckets,
    distinct_kpis,
    plan_period_values,
    run_periods,
)
from warehouse.refresh_days import parse_day
from warehouse.sources.demo import iter_demo_days

KPIS = Path(__file__).resolve().parents[2] / "kpis"
LAST = date(2024, 3, 31)
DEMO = {"events": 24_000, "days": 40, "seed": 11, "end_date": LAST}


SHOP = "https://shop.example/"


def _day(d: date) -> str:
    return d.strftime("%Y%m%d")


def _traps(era: str, ping_id: bool = False) -> list[dict]:
    paid = last_click("google", "cpc", "Paid Search")
    return [
        # a session from Sunday 24 into Monday 25 March (two weeks), ending in a purchase
        event("20240324", 86_390, "page_view", "trap-x", 777, collected=("google", "cpc"), click=paid, era=era),
        event("20240325", 20, "add_to_cart", "trap-x", 777, era=era),
        event("20240325", 40, "purchase", "trap-x", 777, tid="T-SHARED", era=era),
        # the same id, carried by another user in the week before: that purchase counts, not the later one
        event("20240314", 500, "purchase", "trap-y", 31, tid="T-SHARED", era=era),
        # a one-day user's purchase (with `ping_id`, of an id a cookieless ping carried first)
        *([event("20240320", 100, "purchase", None, None, tid="T-ANON", era=era)] if ping_id else []),
        event("20240320", 200, "page_view", "trap-w", 41, era=era),
        event("20240320", 300, "purchase", "trap-w", 41, tid="T-ANON", era=era),
        # a conversion window from 29 February into 1 March, by a first-time visitor
        event("20240229", 82_800, "add_to_cart", "trap-z", 55, collected=("newsletter", "email"), era=era),
        event("20240301", 3_600, "purchase", "trap-z", 56, tid="T-Z", era=era),
        # a cookieless ping; and a day of pings only, before the demo's first day (alone in its week)
        event("20240303", 900, "page_view", None, None, era=era),
        event("20240218", 900, "page_view", None, None, era=era),
        # one day; and two days a month apart
        event("20240315", 700, "page_view", "trap-one", 61, era=era),
        event("20240315", 800, "purchase", "trap-one", 61, tid="T-ONE", era=era),
        event("20240226", 900, "page_view", "trap-long", 71, era=era),
        event("20240330", 900, "purchase", "trap-long", 72, tid="T-LONG", era=era),
        # a session over midnight with a click on each side, and the same user's direct session 16 days later: it
        # carries the first of them (its source read from the lookback of the last 7 days, two rows kept apart)
        event("20240310", 86_340, "page_view", "trap-carry", 91, url=f"{SHOP}?utm_source=newsletter&utm_medium=email",
              era=era),
        event("20240311", 60, "page_view", "trap-carry", 91, url=f"{SHOP}?utm_source=partner&utm_medium=referral",
              era=era),
        event("20240327", 600, "page_view", "trap-carry", 92, era=era),
    ]


def _store(folder: Path, era: str, ping_id: bool = False) -> Path:
    export = folder / "export"
    export.mkdir(parents=True)
    traps = _traps(era, ping_id)
    schema = None
    for day, table in iter_demo_days(**DEMO):
        schema = table.schema
        extra = [r for r in traps if r["event_date"] == day]
        if extra:
            table = pa.concat_tables([table, pa.Table.from_pylist(extra, schema=table.schema)])
        pq.write_table(table, export / f"events_{day}.parquet")
    pings = [r for r in traps if r["event_date"] == "20240218"]
    pq.write_table(pa.Table.from_pylist(pings, schema=schema), export / "events_20240218.parquet")
    db = folder / "w.duckdb"
    result = CliRunner().invoke(app, ["load", "ga4-export", str(export), "--db", str(db), "--kpis", str(KPIS)])
    assert result.exit_code == 0, result.output
    return db


def _kept(rows: list[dict], plan) -> dict[tuple, tuple]:
    """The rows a refresh stores (`period_values.period_table`), by (kpi, breakdown, value)."""
    return {(r["kpi_id"], r["breakdown"], r["breakdown_value"]): (r["numerator"], r["denominator"], r["value"])
            for r in rows if counts_something(plan, r)}


@pytest.mark.parametrize("era", ["cross_channel", "legacy"])
def test_ranges_counted_from_users_spans_equal_each_range_counted_in_full(tmp_path, era):
    db = _store(tmp_path, era)
    plan = compile_paths([KPIS]).plan
    ids = distinct_kpis(plan)
    assert summable(plan, ids)
    with duckdb.connect(str(db)) as con:
        loaded = dict(con.execute("SELECT event_date, loaded_at FROM loaded_days").fetchall())
        jobs, _, _ = plan_period_values(con, plan, loaded, full=True)
        first = parse_day(min(loaded))
        # and every calendar week (stored for KPIs with a weekly trend only): a pings-only one among them
        jobs.append(PeriodJob("week", first, parse_day(max(loaded)), tuple(ids)))
        wanted = sorted({(max(a, first), b) for j in jobs
                         for a, b in ([(j.start, j.end)] if j.grain == "period" else calendar_buckets(j))})
        assert len(wanted) >= 10  # the dashboard's ranges, 6 weeks, 2 months (some the same days)
        pings_only = (date(2024, 2, 18), date(2024, 2, 18))  # a Sunday: its week's only loaded day
        assert pings_only in wanted
        spanned = spanned_periods(con, plan, ids, wanted, list(loaded), worth=math.inf)
        assert spanned is not None and set(spanned) == set(wanted)
        assert spanned_periods(con, plan, ids, wanted, list(loaded), worth=0) is None  # never worth it: not used
        counted = run_periods(con, plan, ids, wanted)
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchall()[0][0] == 0
        for period in wanted:
            ours, theirs = _kept(spanned[period], plan), _kept(counted[period], plan)
            assert len(theirs) > (1 if period == pings_only else 20)  # pings only: each count's 0
            assert differing(ours, theirs) == [], period
            assert {(r["grain"], r["period_start"], r["period_end"]) for r in spanned[period]} == {("period", *period)}
            # and each range's sessions from the raw events: distinct (user, session id)
            (sessions,) = con.execute(SESSIONS, {"a": _day(period[0]), "b": _day(period[1])}).fetchall()[0]
            assert ours[("sessions", "", "")][0] == sessions, period
            assert (sessions == 0) == (period == pings_only)  # a day of pings has data: 0 sessions, not none


def test_an_id_a_cookieless_ping_shares_with_a_user_makes_every_range_counted_in_full(tmp_path):
    """The ping's purchase counts and the user's does not: a count of users' parts would count the user's."""
    db = _store(tmp_path, "cross_channel", ping_id=True)
    plan = compile_paths([KPIS]).plan
    ids = distinct_kpis(plan)
    wanted = [(date(2024, 3, 18), date(2024, 3, 24)), (date(2024, 3, 4), date(2024, 3, 31))]
    with duckdb.connect(str(db)) as con:
        assert ids_shared_with_pings(con)
        loaded = [d for (d,) in con.execute("SELECT event_date FROM loaded_days").fetchall()]
        assert spanned_periods(con, plan, ids, wanted, loaded, worth=math.inf) is None
        counted = run_periods(con, plan, ids, wanted)
        # counted in full, trap-w's purchase is the id's second: its session is no converting session
        (converting,) = con.execute("""
            SELECT count(DISTINCT (user_pseudo_id, list_filter(event_params, lambda p: p.key = 'ga_session_id')[1]
                                   .value.int_value))
            FROM ga4_events WHERE event_name = 'purchase' AND event_date BETWEEN '20240318' AND '20240324'
                AND user_pseudo_id IS NOT NULL AND ecommerce.transaction_id NOT IN (
                    SELECT ecommerce.transaction_id FROM ga4_events WHERE event_name = 'purchase'
                    AND ecommerce.transaction_id IS NOT NULL GROUP BY 1
                    HAVING min(event_date || lpad(CAST(event_timestamp AS VARCHAR), 20, '0')) FILTER (
                        WHERE user_pseudo_id IS NULL) < min(event_date || lpad(CAST(event_timestamp AS VARCHAR), 20,
                        '0')) FILTER (WHERE user_pseudo_id IS NOT NULL))
        """).fetchall()[0]
        row = _kept(counted[wanted[0]], plan)[("session_conversion_rate", "", "")]
        assert row[0] == converting > 0
    with duckdb.connect(str(db)) as con:
        con.execute("DELETE FROM slim_events WHERE user_pseudo_id IS NULL AND ecommerce.transaction_id = 'T-ANON'")
        assert not ids_shared_with_pings(con)


def test_ranges_that_barely_overlap_are_counted_one_by_one_without_reading_the_spans(tmp_path):
    """Each user's event in a range is read once at least, so ranges whose days overlap little cannot be counted
    for less from spans: `spanned_periods` says so from the days' counts (`WORTH`); ranges that overlap go on."""
    db = _store(tmp_path, "legacy")
    plan = compile_paths([KPIS]).plan
    ids = distinct_kpis(plan)
    weeks = [(date(2024, 3, 11), date(2024, 3, 17)), (date(2024, 3, 18), date(2024, 3, 24))]
    month = (date(2024, 3, 1), date(2024, 3, 31))
    with duckdb.connect(str(db)) as con:
        loaded = [d for (d,) in con.execute("SELECT event_date FROM loaded_days").fetchall()]
        # in plain SQL: the users' events of the days in one range or more, against every range's events
        union, whole = con.execute("""
            SELECT count(user_pseudo_id) FILTER (WHERE event_date BETWEEN '20240311' AND '20240324'),
                   count(*) FILTER (WHERE event_date BETWEEN '20240311' AND '20240324')
            FROM events""").fetchall()[0]
        assert union > 0.75 * whole  # the weeks do not overlap: nothing to gain
        assert spanned_periods(con, plan, ids, weeks, loaded) is None
        march = [month, *weeks, (date(2024, 3, 4), date(2024, 3, 10)), (date(2024, 3, 25), date(2024, 3, 31))]
        assert spanned_periods(con, plan, ids, march, loaded) is not None  # each day in two ranges: worth it
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchall()[0][0] == 0


def test_full_refresh_counts_with_spans_what_it_counted_range_by_range(tmp_path):
    """Through the CLI: a full refresh's stored periods (spans where worth it) equal the ranges counted one by one."""
    db = _store(tmp_path, "cross_channel")
    result = CliRunner().invoke(app, ["refresh", "--full", "--db", str(db), "--kpis", str(KPIS)])
    assert result.exit_code == 0, result.output
    plan = compile_paths([KPIS]).plan
    with duckdb.connect(str(db)) as con:
        stored = con.execute("SELECT DISTINCT period_start, period_end FROM kpi_period_values WHERE grain = 'period'"
                             ).fetchall()
        first = con.execute("SELECT min(event_date) FROM loaded_days").fetchall()[0][0]
        of = {(a, b): (max(a, parse_day(first)), b) for a, b in stored}  # stored with the preset's first day
        counted = run_periods(con, plan, distinct_kpis(plan), sorted(set(of.values())))
        assert len(of) >= 6
        for (a, b), period in of.items():
            rows = con.execute("SELECT kpi_id, breakdown, breakdown_value, numerator, denominator, value "
                               "FROM kpi_period_values WHERE grain = 'period' AND period_start = $a AND period_end = $b",
                               {"a": a, "b": b}).fetchall()
            ours = {r[:3]: r[3:] for r in rows}
            theirs = _kept(counted[period], plan)
            assert differing(ours, theirs) == [], period


def test_which_formulas_add_up_from_parts():
    assert [_homogeneous(parse_formula(f)) for f in ("a + b", "(a - b) / 2", "2 * a - b", "a + 5", "2 * a - 1")] == \
        [True, True, True, False, False]
    plan = compile_paths([KPIS]).plan
    assert summable(plan, distinct_kpis(plan))  # revenue / new users: a ratio of two sums over users
