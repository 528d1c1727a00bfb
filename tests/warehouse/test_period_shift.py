"""Periods counted by shifting a stored range (`warehouse/period_shift.py`) give exactly what counting them in full
gives: the oracle here is `kpi refresh --full` on a copy of the same store, whose period values the tests of
`test_period_values.py` check against plain SQL.

The store is the demo property (sessions over midnight, duplicate purchases, first visits, a conversion window)
plus traps on the newest day and the days before it, in each export era: a session running from the day before
into the new day, a transaction id one user carried days before another carries it on the new day, a
cookieless ping, a first visit on the new day and a conversion whose window runs into it.
"""

from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
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
from warehouse import period_values
from warehouse.location import copy_store
from warehouse.period_shift import _degree, differing_days, ids_shared_with_pings, plan_shifts, shiftable
from warehouse.period_values import calendar_buckets, distinct_kpis, plan_period_values
from warehouse.refresh_days import parse_day
from warehouse.sources.demo import iter_demo_days

KPIS = Path(__file__).resolve().parents[2] / "kpis"
LAST = date(2024, 3, 31)  # a Sunday, the last day of a month and a quarter
DEMO = {"events": 24_000, "days": 40, "seed": 5, "end_date": LAST}
PERIOD_SQL = ("SELECT kpi_id, grain, period_start, period_end, breakdown, breakdown_value, numerator, denominator, "
              "value FROM kpi_period_values")


def _day(d: date) -> str:
    return d.strftime("%Y%m%d")


def _traps(era: str) -> list[dict]:
    new, before = _day(LAST), _day(LAST - timedelta(days=1))
    paid = last_click("google", "cpc", "Paid Search")
    return [
        # a session from the day before into the new day, ending in a purchase
        event(before, 86_390, "page_view", "trap-x", 777, collected=("google", "cpc"), click=paid, era=era),
        event(new, 20, "add_to_cart", "trap-x", 777, era=era),
        event(new, 40, "purchase", "trap-x", 777, tid="T-SHARED", era=era),
        # the same transaction id, carried by another user five days earlier: that purchase counts, not this one
        event(_day(LAST - timedelta(days=5)), 500, "purchase", "trap-y", 31, tid="T-SHARED", era=era),
        # a consent-mode ping without a user
        event(new, 900, "page_view", None, None, era=era),
        # a conversion whose window runs from the day before into the new day, by a first-time visitor
        event(before, 82_800, "add_to_cart", "trap-z", 55, collected=("newsletter", "email"), era=era),
        event(new, 3_600, "purchase", "trap-z", 56, tid="T-Z", era=era),
        # a first visit on the new day
        event(new, 7_200, "page_view", "trap-new", 91, era=era),
    ]


def _write_export(folder: Path, era: str, extra: tuple[dict, ...] = ()) -> tuple[Path, Path]:
    """(the days before the newest, the newest day) as two folders of Parquet files."""
    older, newest = folder / "older", folder / "newest"
    older.mkdir(parents=True)
    newest.mkdir()
    traps = [*_traps(era), *extra]
    for day, table in iter_demo_days(**DEMO):
        extra = [r for r in traps if r["event_date"] == day]
        if extra:
            table = pa.concat_tables([table, pa.Table.from_pylist(extra, schema=table.schema)])
        pq.write_table(table, (newest if day == _day(LAST) else older) / f"events_{day}.parquet")
    return older, newest


def _kpi(*args: object) -> None:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output


def _periods(db: Path) -> dict[tuple, tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {row[:6]: row[6:] for row in con.execute(PERIOD_SQL).fetchall()}


def _shifts(db: Path) -> tuple[list, dict]:
    """(the ranges the next refresh counts, those it shifts from a stored range) on the store as it is."""
    plan = compile_paths([KPIS]).plan
    with duckdb.connect(str(db), read_only=True) as con:
        loaded = dict(con.execute("SELECT event_date, loaded_at FROM loaded_days").fetchall())
        jobs, _, _ = plan_period_values(con, plan, loaded)
        first = parse_day(min(loaded))
        wanted = sorted({(max(a, first), b) for j in jobs
                         for a, b in ([(j.start, j.end)] if j.grain == "period" else calendar_buckets(j))})
        shifts, _ = plan_shifts(con, plan, distinct_kpis(plan), wanted, loaded)
    return wanted, shifts


# each era with the listed users' events read by the hash of their ids, or by the ids (`period_values.FEW_USERS`:
# below it of the store's users, by the ids): the two texts of a statement over listed users
@pytest.mark.parametrize(("era", "few_users"), [("cross_channel", 0.0), ("legacy", 1.0)])
def test_a_new_day_shifted_from_the_stored_ranges_counts_what_a_full_refresh_counts(tmp_path, era, few_users,
                                                                                    monkeypatch):
    monkeypatch.setattr(period_values, "FEW_USERS", few_users)
    older, newest = _write_export(tmp_path / "export", era)
    db = tmp_path / "shifted.duckdb"
    _kpi("load", "ga4-export", older, "--db", db, "--kpis", KPIS)
    _kpi("refresh", "--db", db, "--kpis", KPIS)
    _kpi("load", "ga4-export", newest, "--db", db, "--kpis", KPIS)
    wanted, shifts = _shifts(db)
    # the new day's ranges are shifted, but for the last 7 days and the 7 before them: their stored neighbours
    # differ by too many events for a shift to pay (counted in full; a week stored for a KPI with a weekly trend,
    # the same days, is shifted: `test_weeks_follow_the_kpis_weekly_trend`)
    assert len(wanted) >= 6 and set(shifts) <= set(wanted)
    assert set(wanted) - set(shifts) == {(date(2024, 3, 25), date(2024, 3, 31)), (date(2024, 3, 18), date(2024, 3, 24))}
    full = tmp_path / "full.duckdb"
    copy_store(db, full)
    _kpi("refresh", "--db", db, "--kpis", KPIS)
    _kpi("refresh", "--full", "--db", full, "--kpis", KPIS)
    shifted, counted = _periods(db), _periods(full)
    assert len(counted) > 300
    assert differing(shifted, counted) == []
    with duckdb.connect(str(db), read_only=True) as con:  # the text the shift ran: by the ids or by their hashes
        texts = [t for (t,) in con.execute("SELECT sql FROM sql_texts WHERE sql LIKE '%FROM period_users%'").fetchall()]
    by_id = re.compile(r"WHERE\s+event_date BETWEEN .{0,200}?\s+AND user_pseudo_id IN \(\s*SELECT\s+user_pseudo_id\s+"
                       r"FROM period_users", re.S)
    assert texts and any(by_id.search(t) for t in texts) == (few_users == 1.0)
    # and, recounted here from the raw events, the sessions of every dashboard range: distinct (user, session id)
    ranges = [(k[2], k[3], v[0]) for k, v in shifted.items() if k[0] == "sessions" and k[1] == "period" and k[4] == ""]
    assert len(ranges) >= 5
    with duckdb.connect(str(db), read_only=True) as con:
        for start, end, numerator in ranges:
            (expected,) = con.execute(SESSIONS, {"a": _day(start), "b": _day(end)}).fetchall()[0]
            assert numerator == expected > 0, (start, end)
    # the traps are in those numbers: the shared id's later purchase is not counted again (one purchase a day
    # per user is the demo's, so compare with the store's own count of kept purchases on the new day)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM events WHERE user_pseudo_id LIKE 'trap-%'").fetchall()[0][0] == 7


def _odd_traps(era: str) -> tuple[dict, ...]:
    """Users whose part of a range is not the sum of their days' parts (`warehouse/day_parts.py`), on the days the
    new day's shift treats differently: the last 28 days drop 3 March, the month to date adds 31 March."""
    utm = "https://shop.example/?utm_source=news&utm_medium=email"
    cpc = "https://shop.example/?utm_source=google&utm_medium=cpc"
    start = 10 * 3600
    return (
        # two first visits, one on the dropped day: one new user of the last 28 days, one of each day
        event("20240303", start, "first_visit", "trap-fv", 61, era=era),
        event("20240320", start, "first_visit", "trap-fv", 62, era=era),
        # a session on 1 March whose click comes a minute after its start, and a direct session on 31 March half
        # a minute past 30 days after that start: a range holding 1 March dates the session by its start (the click
        # is out of the direct session's 30 days), the new day's own statement by its click (carried)
        event("20240301", start, "page_view", "trap-edge", 71, era=era),
        event("20240301", start + 60, "page_view", "trap-edge", 71, url=utm, collected=("news", "email"), era=era),
        event("20240331", start + 30, "page_view", "trap-edge", 72, era=era),
        event("20240331", start + 90, "generate_lead", "trap-edge", 72, era=era),
        # a session from 2 March into 3 March (the dropped day), its click at its start, and a second session just
        # before midnight with another click: the day's stored value, counted with 2 March, gives the session's
        # 3 March part its own click; a statement of 3 March alone, the later session's (an independent review's)
        event("20240302", 86_400 - 600, "page_view", "trap-mid", 81, url=utm, collected=("news", "email"), era=era),
        event("20240302", 86_400 - 300, "page_view", "trap-mid", 82, url=cpc, collected=("google", "cpc"), era=era),
        event("20240303", 600, "page_view", "trap-mid", 81, era=era),
        event("20240303", 620, "generate_lead", "trap-mid", 81, era=era),
    )


def _shifted_beside_full(tmp_path: Path, era: str, extra: tuple[dict, ...]) -> Path:
    """The export with `extra`, loaded but for its newest day and refreshed; then the newest day loaded and the
    store refreshed (its ranges shifted), beside a copy refreshed in full: the two give the same period values.
    The full copy's path."""
    older, newest = _write_export(tmp_path / "export", era, extra)
    db = tmp_path / "shifted.duckdb"
    _kpi("load", "ga4-export", older, "--db", db, "--kpis", KPIS)
    _kpi("refresh", "--db", db, "--kpis", KPIS)
    _kpi("load", "ga4-export", newest, "--db", db, "--kpis", KPIS)
    assert _shifts(db)[1]
    full = tmp_path / "full.duckdb"
    copy_store(db, full)
    _kpi("refresh", "--db", db, "--kpis", KPIS)
    _kpi("refresh", "--full", "--db", full, "--kpis", KPIS)
    assert differing(_periods(db), _periods(full)) == []
    return full


@pytest.mark.parametrize("era", ["legacy", "cross_channel"])
def test_the_days_values_move_a_range_but_for_users_counted_apart(tmp_path, era):
    """The session KPIs and new users move by the days' own values (`day_parts.py`), but for the users for whom a
    range's part is not the sum of their days' parts, counted apart: a second first visit, a click carried or not
    depending on the days a statement reads, a session over midnight out of the dropped day with two clicks before
    it, and the demo's session over midnight into the new day. The oracle is a full refresh; each of those users is
    listed apart, and the days that differ are counted again as those users' parts are."""
    full = _shifted_beside_full(tmp_path, era, _odd_traps(era))
    # the two traps count: the first visits make one new user of the last 28 days and of the month
    new_users = {(k[2], k[3]): v[0] for k, v in _periods(full).items()
                 if k[0] == "new_users" and k[1] == "period" and k[4] == ""}
    with duckdb.connect(str(full), read_only=True) as con:
        for (start, end), value in new_users.items():
            (expected,) = con.execute(
                "SELECT count(DISTINCT user_pseudo_id) FROM events WHERE event_name = 'first_visit' "
                "AND event_date BETWEEN $a AND $b", {"a": _day(start), "b": _day(end)}).fetchall()[0]
            assert value == expected, (start, end)


def test_a_store_whose_users_share_a_hash_shifts_by_their_ids(tmp_path, monkeypatch):
    """Where two users share a `hash(user_pseudo_id)`, the kept session days key sessions by the ids, not by a
    number holding the user's hash (`statements.users_hash_apart`): the shift is then sized from the events and
    moved by its listed users, not by the days' values, whose checks read that number (an independent review found
    the refresh failing there). Simulated, as a 64-bit collision cannot be made on purpose."""
    from warehouse import session_facts, statements

    for module in (statements, session_facts, period_values):
        monkeypatch.setattr(module, "users_hash_apart", lambda con: False)
    _shifted_beside_full(tmp_path, "cross_channel", _odd_traps("cross_channel"))


def _assert_counted_in_full(db: Path, tmp_path: Path) -> None:
    """The next refresh shifts no range, and counts what a full refresh of a copy of the store counts."""
    assert _shifts(db)[1] == {}
    full = tmp_path / "full.duckdb"
    copy_store(db, full)
    _kpi("refresh", "--db", db, "--kpis", KPIS)
    _kpi("refresh", "--full", "--db", full, "--kpis", KPIS)
    assert differing(_periods(db), _periods(full)) == []


def test_a_day_loaded_late_is_counted_in_full(tmp_path):
    """A day before the last refresh's newest (a reload) changes ranges the shift cannot know: no shift."""
    older, newest = _write_export(tmp_path / "export", "cross_channel")
    db = tmp_path / "w.duckdb"
    _kpi("load", "ga4-export", older, "--db", db, "--kpis", KPIS)
    _kpi("refresh", "--db", db, "--kpis", KPIS)
    middle = tmp_path / "middle"
    middle.mkdir()
    shutil.copy(older / f"events_{_day(LAST - timedelta(days=10))}.parquet", middle)
    shutil.copy(newest / f"events_{_day(LAST)}.parquet", middle)
    _kpi("load", "ga4-export", middle, "--db", db, "--kpis", KPIS)
    _assert_counted_in_full(db, tmp_path)


def test_which_formulas_and_days_a_shift_takes():
    plan = compile_paths([KPIS]).plan
    assert shiftable(plan, distinct_kpis(plan))  # revenue / new users: both sums over users
    assert [_degree(parse_formula(f)) for f in ("a + b", "(a - b) / 2", "a * b", "a / b", "2 * a - 1")] == \
        [1, 1, 2, float("inf"), 1]
    # the last 7 days moving from 24–30 Mar to 25–31 Mar, a one-day conversion window, data up to 30 Mar: the
    # day leaving the lookback, the day going from the range to the lookback, the new day and its window
    days = differing_days((date(2024, 3, 24), date(2024, 3, 30)), (date(2024, 3, 25), date(2024, 3, 31)), 1,
                          date(2024, 3, 30))
    assert days == [date(2024, 2, 23), date(2024, 3, 24), date(2024, 3, 31), date(2024, 4, 1)]


def test_an_id_a_cookieless_ping_carries_too_is_counted_in_full(tmp_path):
    """A ping without a user carries, before trap-z, the id of trap-z's purchase on the new day: which purchase
    counts first depends on an event that is no user's, so no shift; the numbers are a full refresh's."""
    ping = event(_day(LAST), 60, "purchase", None, None, tid="T-Z")
    older, newest = _write_export(tmp_path / "export", "cross_channel", (ping,))
    db = tmp_path / "w.duckdb"
    _kpi("load", "ga4-export", older, "--db", db, "--kpis", KPIS)
    _kpi("refresh", "--db", db, "--kpis", KPIS)
    _kpi("load", "ga4-export", newest, "--db", db, "--kpis", KPIS)
    _assert_counted_in_full(db, tmp_path)


@pytest.mark.parametrize("rows, shared", [
    ([("u1", "T1"), ("u2", "T2")], False),  # no ping
    ([(None, "T1"), ("u2", "T2"), ("u3", None)], False),  # the ping's id is no user's
    ([(None, "(not set)"), ("u2", "(not set)"), (None, ""), ("u3", "")], False),  # GA4's placeholders are no id
    ([(None, "T1"), ("u2", "T2"), ("u3", "T1")], True),
    ([(None, None), (None, "T1"), ("u3", "T1")], True),
])
def test_whether_a_ping_shares_a_transaction_id_with_a_user(rows, shared):
    """`ids_shared_with_pings` over a table `events` of (user_pseudo_id, ecommerce.transaction_id) rows, the
    answer worked out by hand for each case."""
    con = duckdb.connect()
    con.execute("CREATE TABLE events (user_pseudo_id VARCHAR, ecommerce STRUCT(transaction_id VARCHAR))")
    con.executemany("INSERT INTO events VALUES (?, {'transaction_id': ?})", rows)
    assert ids_shared_with_pings(con) is shared
