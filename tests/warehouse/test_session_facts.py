"""Kept session days (`warehouse/session_facts.py`): every statement that reads them counts what it counts from the
events, and they are kept again whenever what they depend on changes.

The store is `test_period_spans.py`'s: the demo property plus traps at the ranges' edges, in each export era (a
session over the midnight between two weeks, a conversion window over the midnight between two months, a
transaction id two users carry, cookieless pings, a day of pings only). Each comparison is with the same statement
reading the events (the form every refresh used before, whose numbers the other tests check against plain SQL),
and the sessions of every range are recounted here in plain SQL from the raw events.
"""

from __future__ import annotations

import math
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from stored_events import SESSIONS, differing
from test_period_spans import KPIS, _kept, _store
from typer.testing import CliRunner

from generator.compile import compile_paths
from generator.sql.batch import statement_reach
from generator.sql.session_facts import FACTS, SINGLE
from kpibridge.cli import app
from warehouse.location import copy_store
from warehouse.period_spans import spanned_periods
from warehouse.period_values import (
    PeriodJob,
    calendar_buckets,
    distinct_kpis,
    plan_period_values,
    run_periods,
    run_shift,
)
from warehouse.refresh_days import parse_day
from warehouse.session_facts import _stale_days, facts_ready, facts_sql, keep_facts, signature
from warehouse.statements import plan_sql

FACT_DAYS = "session_fact_days"


def _rows(con: duckdb.DuckDBPyConnection, sql: str, start: str, end: str) -> dict[tuple, tuple]:
    cursor = con.execute(sql, {"start_date": start, "end_date": end})
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    return {(r["kpi_id"], r["date"], r["breakdown"], r["breakdown_value"]): (r["numerator"], r["denominator"],
                                                                           r["value"]) for r in rows}


def _ranges(con: duckdb.DuckDBPyConnection, plan, ids: list[str]) -> list[tuple[date, date]]:
    loaded = dict(con.execute("SELECT event_date, loaded_at FROM loaded_days").fetchall())
    jobs, _, _ = plan_period_values(con, plan, loaded, full=True)
    first = parse_day(min(loaded))
    jobs.append(PeriodJob("week", first, parse_day(max(loaded)), tuple(ids)))
    return sorted({(max(a, first), b) for j in jobs
                   for a, b in ([(j.start, j.end)] if j.grain == "period" else calendar_buckets(j))})


def _periods(con, plan, ids, wanted, loaded) -> tuple[dict, dict, dict]:
    """Every range counted in full, from the users' spans, and the part listed users make of each (with each user
    sharing a transaction id with one of them, as a refresh lists them: `period_shift.period_users`)."""
    users = [u for (u,) in con.execute("SELECT DISTINCT user_pseudo_id FROM ga4_events WHERE user_pseudo_id "
                                       "IN ('trap-x', 'trap-y', 'trap-z') ORDER BY 1").fetchall()]
    assert len(users) == 3
    spanned = spanned_periods(con, plan, ids, wanted, loaded, worth=math.inf)
    assert spanned is not None
    con.execute("CREATE OR REPLACE TEMP TABLE listed_users AS SELECT r.s AS period_start, r.e AS period_end, "
                "FALSE AS capped, u.id AS user_pseudo_id FROM (SELECT unnest($s) AS s, unnest($e) AS e) r, "
                "(SELECT unnest($users) AS id) u",
                {"s": [p[0] for p in wanted], "e": [p[1] for p in wanted], "users": users})
    shifted = run_shift(con, plan, ids, [(period, False) for period in wanted])
    con.execute("DROP TABLE listed_users")
    return run_periods(con, plan, ids, wanted), spanned, {period: rows for (period, _), rows in shifted.items()}


@pytest.mark.parametrize("era", ["cross_channel", "legacy"])
def test_statements_reading_kept_session_days_count_what_they_count_from_the_events(tmp_path, era):
    db = _store(tmp_path, era)
    plan = compile_paths([KPIS]).plan
    ids = distinct_kpis(plan)
    with duckdb.connect(str(db)) as con:
        loaded = [d for (d,) in con.execute("SELECT event_date FROM loaded_days ORDER BY 1").fetchall()]
        wanted = _ranges(con, plan, ids)
        assert not facts_ready(con, plan)
        from_events = _periods(con, plan, ids, wanted, loaded)
        days_from_events = {kids: _rows(con, plan_sql(con, plan, kids), loaded[0], loaded[-1])
                            for kids in (None, ("sessions", "engaged_session_rate"))}

        assert keep_facts(con, plan) and facts_ready(con, plan)
        (kept,) = con.execute(f"SELECT count(DISTINCT event_day) FROM {FACTS}").fetchall()[0]
        assert kept == len(loaded)  # the day of cookieless pings only too (their rows have no session key)
        from_facts = _periods(con, plan, ids, wanted, loaded)
        for kids, expected in days_from_events.items():  # every KPI (the rows as kept); two (regrouped)
            sql = plan_sql(con, plan, kids, facts=True)
            assert FACTS in sql
            ours = _rows(con, sql, loaded[0], loaded[-1])
            assert len(ours) > 100 and differing(ours, expected) == []

    for ours, theirs in zip(from_facts, from_events, strict=True):
        assert set(ours) == set(wanted)
        for period in wanted:
            mine, expected = _kept(ours[period], plan), _kept(theirs[period], plan)
            assert differing(mine, expected) == [], period
    with duckdb.connect(str(db), read_only=True) as con:
        for period in wanted:  # and each range's sessions from the raw events
            (sessions,) = con.execute(SESSIONS, {"a": f"{period[0]:%Y%m%d}", "b": f"{period[1]:%Y%m%d}"}).fetchall()[0]
            assert _kept(from_facts[0][period], plan)[("sessions", "", "")][0] == sessions, period


@pytest.mark.parametrize("era", ["cross_channel", "legacy"])
def test_a_direct_session_carries_the_first_click_of_a_session_kept_over_two_days(tmp_path, era):
    """GA4's last non-direct click, by hand: trap-carry's direct session of 27 March carries the click of their
    session of 10-11 March, which collected two (newsletter / email before midnight, partner / referral after):
    a session's click is its first, so that session counts under Email in the last 7 days (their only session
    there), read from the events or from the kept session days (whose lookback holds the two days apart)."""
    db = _store(tmp_path, era)
    plan = compile_paths([KPIS]).plan
    last7 = (date(2024, 3, 25), date(2024, 3, 31))
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE OR REPLACE TEMP TABLE listed_users AS SELECT $s AS period_start, $e AS period_end, "
                    "FALSE AS capped, 'trap-carry' AS user_pseudo_id", {"s": last7[0], "e": last7[1]})
        counted = []
        for keep in (False, True):
            assert not keep or keep_facts(con, plan)
            assert facts_ready(con, plan) == keep
            rows = run_shift(con, plan, ["sessions"], [(last7, False)])[(last7, False)]
            counted.append({r["breakdown_value"]: r["numerator"] for r in rows if r["breakdown"] == "channel"})
    assert counted == [{"Email": 1}, {"Email": 1}]


def test_a_reloaded_day_and_every_day_after_it_are_kept_again(tmp_path):
    """A purchase counts when its id was never seen before its day, so a day's kept rows depend on the days before
    it: a load of one day makes that day's and every later day's rows stale, not the earlier ones."""
    db = _store(tmp_path, "cross_channel")
    plan = compile_paths([KPIS]).plan
    with duckdb.connect(str(db)) as con:
        assert keep_facts(con, plan)
        loaded = [d for (d,) in con.execute("SELECT event_date FROM loaded_days ORDER BY 1").fetchall()]
    middle = loaded[len(loaded) // 2]
    result = CliRunner().invoke(app, ["load", "demo", "--events", "900", "--days", "1", "--seed", "3",
                                      "--end-date", f"{middle[:4]}-{middle[4:6]}-{middle[6:]}", "--db", str(db)])
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(db)) as con:
        mark = signature(facts_sql(con, plan) or "")
        assert _stale_days(con, mark) == [d for d in loaded if d >= middle]
        assert not facts_ready(con, plan)
        assert keep_facts(con, plan) and facts_ready(con, plan)
        kept = con.execute(f"SELECT * FROM {FACTS} ORDER BY ALL").fetchall()
    # the same rows as kept from scratch
    fresh = tmp_path / "fresh.duckdb"
    copy_store(db, fresh)
    with duckdb.connect(str(fresh)) as con:
        con.execute(f"DROP TABLE {FACTS}")
        con.execute(f"DELETE FROM {FACT_DAYS}")
        assert keep_facts(con, plan)
        assert con.execute(f"SELECT * FROM {FACTS} ORDER BY ALL").fetchall() == kept
    assert len(kept) > 1000


def test_a_range_of_session_days_holds_its_own_days_only_as_a_longer_range_gives_them(tmp_path):
    """A session day depends on its own day's events (and the purchase ids before it), never on a conversion's
    days after it: the statement keeping a range of days reads up to its last day only (`build_facts_query`), and
    gives no row after it; its rows are those a range to the last loaded day gives on the same days."""
    db = _store(tmp_path, "cross_channel")
    plan = compile_paths([KPIS]).plan
    assert statement_reach(plan) > 0  # a conversion window: the KPIs' statements read days after `end_date`
    with duckdb.connect(str(db), read_only=True) as con:
        sql = facts_sql(con, plan)
        assert sql is not None
        assert "event_date BETWEEN $start_date AND $end_date" in sql  # the scan: no conversion's day after it
        loaded = [d for (d,) in con.execute("SELECT event_date FROM loaded_days ORDER BY 1").fetchall()]
        middle = loaded[len(loaded) // 2]

        def kept(end: str) -> list[tuple]:
            return con.execute(f"SELECT * FROM ({sql}) ORDER BY ALL", {"start_date": loaded[0], "end_date": end}
                               ).fetchall()

        cut, whole = kept(middle), kept(loaded[-1])
        day = [d[0] for d in con.execute(f"SELECT * FROM ({sql}) LIMIT 0", {"start_date": loaded[0],
                                                                           "end_date": middle}).description]
    at = day.index("event_day")
    assert cut and max(r[at] for r in cut) == parse_day(middle)
    assert cut == [r for r in whole if r[at] <= parse_day(middle)]
    assert len(whole) > len(cut)


def test_kept_session_days_of_another_plan_are_never_read(tmp_path):
    db = _store(tmp_path, "cross_channel")
    plan = compile_paths([KPIS]).plan
    fewer = tmp_path / "kpis"
    shutil.copytree(KPIS, fewer)
    (fewer / "engagement" / "engaged_session_rate.yaml").unlink()
    other = compile_paths([fewer]).plan
    with duckdb.connect(str(db)) as con:
        assert keep_facts(con, plan)
        assert not facts_ready(con, other)
        assert keep_facts(con, other) and facts_ready(con, other) and not facts_ready(con, plan)
        columns = [c for (c,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = $t",
                                             {"t": FACTS}).fetchall()]
        assert not any(c.startswith("engaged_session_rate") for c in columns)
        assert "sessions__is_measure" in columns


def test_two_click_records_sharing_an_id_keep_nothing_and_the_refresh_reads_the_events(tmp_path):
    """A session's click is kept as an id of its record; two records sharing one would be read as one, so then
    nothing is kept and every statement reads the events, with the same numbers."""
    db = _store(tmp_path, "cross_channel")
    result = CliRunner().invoke(app, ["refresh", "--db", str(db), "--kpis", str(KPIS)])
    assert result.exit_code == 0, result.output
    plan = compile_paths([KPIS]).plan
    with duckdb.connect(str(db)) as con:
        assert facts_ready(con, plan)
        before = con.execute("SELECT * EXCLUDE (computed_at) FROM kpi_values ORDER BY ALL").fetchall()
        con.execute("INSERT INTO kept_clicks SELECT event_row, {'source': 'elsewhere', 'medium': 'x', "
                    "'campaign': NULL, 'gclid': NULL} FROM kept_clicks LIMIT 1")
        last = max(d for (d,) in con.execute("SELECT event_date FROM loaded_days").fetchall())
        con.execute(f"DELETE FROM {FACT_DAYS} WHERE event_date = $d", {"d": last})
        assert not keep_facts(con, plan) and not facts_ready(con, plan)
    result = CliRunner().invoke(app, ["refresh", "--full", "--db", str(db), "--kpis", str(KPIS)])
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(db)) as con:
        assert con.execute("SELECT * EXCLUDE (computed_at) FROM kpi_values ORDER BY ALL").fetchall() == before
        assert not facts_ready(con, plan)
    assert len(before) > 1000


def _flags_wrong(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """The kept rows whose `SINGLE` flag is not (the session has this one row), counted in plain SQL."""
    return con.execute(f"""
        SELECT session_key, event_day, {SINGLE} FROM (
            SELECT session_key, event_day, {SINGLE}, count(*) OVER (PARTITION BY session_key) AS rows FROM {FACTS}
            WHERE session_key IS NOT NULL)
        WHERE {SINGLE} IS DISTINCT FROM (rows = 1)""").fetchall()


def _load_as_day(tmp_path: Path, db: Path, day: str, after: str, where: str, params: dict) -> None:
    """`kpi load` of the export's latest event of `day` that `where` keeps, as the day `after` (YYYYMMDD), a minute
    after its midnight."""
    later = tmp_path / "later"
    later.mkdir(exist_ok=True)
    with duckdb.connect() as raw:
        raw.execute(f"""
            COPY (SELECT * REPLACE ($after AS event_date,
                                    (epoch_us(strptime($after, '%Y%m%d')) + 60000000)::BIGINT AS event_timestamp)
                  FROM read_parquet('{tmp_path / "export" / f"events_{day}.parquet"}')
                  WHERE {where} ORDER BY event_timestamp DESC LIMIT 1)
            TO '{later / f"events_{after}.parquet"}' (FORMAT parquet)""", {"after": after, **params})
    result = CliRunner().invoke(app, ["load", "ga4-export", str(later), "--db", str(db), "--kpis", str(KPIS)])
    assert result.exit_code == 0, result.output


def test_a_sessions_only_kept_row_is_flagged_until_a_later_day_holds_more_of_it(tmp_path):
    """Every statement reads a session of one kept row as it is, not grouped (`SINGLE`,
    `generator.sql.session_facts.single_or_grouped`), so the flag must be TRUE for those sessions only: here it
    is checked against each session's rows counted in plain SQL, and the statements against the same statements
    reading the events. A day loaded later that holds more of a one-row session (its events after midnight)
    makes both its rows FALSE; that day loaded again without them makes the session one row again, flagged."""
    db = _store(tmp_path, "cross_channel")
    plan = compile_paths([KPIS]).plan
    with duckdb.connect(str(db)) as con:
        assert keep_facts(con, plan)
        assert _flags_wrong(con) == []
        flags = dict(con.execute(f"SELECT {SINGLE}, count(*) FROM {FACTS} WHERE session_key IS NOT NULL "
                                 "GROUP BY 1").fetchall())
        assert flags[True] > 1000 and flags[False] >= 2  # the session over the midnight between two weeks
        last = max(d for (d,) in con.execute("SELECT event_date FROM loaded_days").fetchall())
        user, session = con.execute(
            "SELECT user_pseudo_id, list_filter(event_params, lambda p: p.key = 'ga_session_id')[1].value.int_value "
            "FROM ga4_events WHERE event_date = $d AND user_pseudo_id IS NOT NULL ORDER BY event_timestamp DESC "
            "LIMIT 1", {"d": last}).fetchall()[0]
    after = f"{parse_day(last) + timedelta(days=1):%Y%m%d}"
    _load_as_day(tmp_path, db, last, after, "user_pseudo_id = $u AND list_filter(event_params, lambda p: p.key = "
                 "'ga_session_id')[1].value.int_value = $s", {"u": user, "s": session})  # the session's last event
    with duckdb.connect(str(db)) as con:
        assert keep_facts(con, plan) and facts_ready(con, plan)
        assert _flags_wrong(con) == []
        ours = con.execute(f"SELECT event_day, {SINGLE} FROM {FACTS} WHERE session_key = (SELECT session_key FROM "
                           f"{FACTS} WHERE event_day = $d AND session_visitor = $u)",
                           {"d": parse_day(after), "u": user}).fetchall()
        assert sorted(ours) == [(parse_day(last), False), (parse_day(after), False)]
        for kids in (None, ("sessions", "engaged_session_rate")):  # every KPI (as kept), two (regrouped)
            expected = _rows(con, plan_sql(con, plan, kids), last, after)
            mine = _rows(con, plan_sql(con, plan, kids, facts=True), last, after)
            assert len(mine) > 10 and differing(mine, expected) == []
    # that day loaded again with another user's event instead: the session is one row again, flagged again
    _load_as_day(tmp_path, db, last, after, "user_pseudo_id IS NOT NULL AND user_pseudo_id != $u", {"u": user})
    with duckdb.connect(str(db)) as con:
        assert keep_facts(con, plan) and facts_ready(con, plan)
        assert _flags_wrong(con) == []
        again = con.execute(f"SELECT event_day, {SINGLE} FROM {FACTS} WHERE session_visitor = $u "
                            "AND event_day >= $d", {"u": user, "d": parse_day(last)}).fetchall()
        assert again == [(parse_day(last), True)]
