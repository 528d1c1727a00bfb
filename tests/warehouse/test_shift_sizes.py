"""The sizes a shift's statements are packed by (`warehouse/shift_sizes.py`): each range's events over its own
listed users, counted from the events, or estimated from the kept session days, each recounted here by hand."""

from __future__ import annotations

import math
from datetime import date, timedelta

import duckdb

from warehouse.shift_sizes import listed_spreads

DAY = [date(2026, 3, 1) + timedelta(days=n) for n in range(10)]
LISTED = [(DAY[1], DAY[3], False, "a"), (DAY[1], DAY[3], False, "b"),
          (DAY[0], DAY[9], True, "a"), (DAY[0], DAY[9], True, "b"), (DAY[0], DAY[6], False, "b")]
REACH, CAP = 1, DAY[7]


def _listed(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TEMP TABLE listed_users (period_start DATE, period_end DATE, capped BOOLEAN, "
                "user_pseudo_id VARCHAR)")
    con.executemany("INSERT INTO listed_users VALUES (?, ?, ?, ?)", LISTED)


def _window(start: date, end: date, capped: bool) -> tuple[date, date]:
    """The days a range spreads its users' events over: its own, the reach after it, none after the cap for a
    range counted as the last refresh counted it."""
    last = end + timedelta(days=REACH)
    return start, min(last, CAP) if capped else last


def test_the_shift_statements_are_sized_by_the_events_each_range_spreads_over_its_own_users():
    """`in_statements` packs a shift's ranges by the events each spreads over its own listed users (its days, the
    reach after them, and no day after the cap for a range counted as the last refresh counted it), recounted
    here by hand; sized by every listed user's events, a range of a few users looked as big as one of all."""
    events = ([("a", d) for d in DAY for _ in range(2)] + [("b", d) for d in DAY[4:6] for _ in range(3)]
              + [("c", d) for d in DAY for _ in range(5)] + [(None, DAY[3])])  # c listed nowhere; a ping
    con = duckdb.connect()
    con.execute("CREATE TABLE events (user_pseudo_id VARCHAR, event_date VARCHAR)")
    con.executemany("INSERT INTO events VALUES (?, ?)", [(u, d.strftime("%Y%m%d")) for u, d in events])
    _listed(con)
    expected: dict[tuple, int] = {}
    for start, end, capped, user in LISTED:
        first, last = _window(start, end, capped)
        expected[((start, end), capped)] = expected.get(((start, end), capped), 0) + sum(
            1 for u, d in events if u == user and first <= d <= last)
    found = listed_spreads(con, REACH, CAP, facts=False)
    assert found == expected == {((DAY[1], DAY[3]), False): 8 + 3, ((DAY[0], DAY[9]), True): 16 + 6,
                                 ((DAY[0], DAY[6]), False): 6}


def test_from_the_kept_session_days_each_one_is_worth_its_days_events_over_its_days_kept_session_days():
    """Where every loaded day has its kept session days, a listed user's kept session day counts as its day's
    events over its day's kept session days (a session key's upper half is its user's `hash(user_pseudo_id)`):
    recounted by hand, with days of different shares, a user listed nowhere and a row of events outside any
    session (no key), which neither counts nor divides."""
    rows = {"a": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], "b": [4, 5, 5], "c": [1, 2, 4, 4, 5, 8]}  # kept days by index
    loaded = {n: 12 + 3 * n for n in range(10)}  # each day's events (loaded_days.rows)
    con = duckdb.connect()
    con.execute("CREATE TABLE session_facts (event_day DATE, session_key UHUGEINT)")
    sessions = [(DAY[n], u, k) for u, days in rows.items() for k, n in enumerate(days)]
    con.executemany("INSERT INTO session_facts SELECT ?, (CAST(hash(?) AS UHUGEINT) << 64) | CAST(? AS UHUGEINT)",
                    sessions)
    con.execute("INSERT INTO session_facts VALUES ($d, NULL)", {"d": DAY[4]})
    con.execute("CREATE TABLE loaded_days (event_date VARCHAR, rows BIGINT)")
    con.executemany("INSERT INTO loaded_days VALUES (?, ?)", [(DAY[n].strftime("%Y%m%d"), r) for n, r in loaded.items()])
    _listed(con)
    kept_per_day = {n: sum(days.count(n) for days in rows.values()) for n in range(10)}
    expected: dict[tuple, float] = {}
    for start, end, capped, user in LISTED:
        first, last = _window(start, end, capped)
        worth = sum(loaded[n] / kept_per_day[n] for n in rows[user] if first <= DAY[n] <= last)
        expected[((start, end), capped)] = expected.get(((start, end), capped), 0) + worth
    found = listed_spreads(con, REACH, CAP, facts=True)
    assert found == {key: math.floor(n + 0.5) for key, n in expected.items()}  # DuckDB rounds halves up
    # the first range reaches day 4, where b keeps one row of four (a's, b's, c's two): 24 events / 4
    # a's days 1-4 (15/2 + 18/2 + 21/1 + 24/4) and b's day 4 (24/4): 49.5 events, rounded up
    assert found[((DAY[1], DAY[3]), False)] == 50
