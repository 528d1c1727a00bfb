"""How many events each range of a shift spreads over its own listed users: what `period_values.run_shift` packs
its statements by (`in_statements`), so that none holds more than DuckDB's memory limit allows.

A range's size is its listed users' events in its days and the `reach` days after them (a range counted as the
last refresh counted it: none after `cap`). Sized by every listed user's events instead, a range listing a few
of them looked as big as one listing them all (at 180 days of 55,000 events a day a new day's shift ran in two
statements, not one).

Two ways to count them, the same sizes where every session day holds its day's share of events:

- from the kept session days (`session_facts`, where `keep_facts` made them for every loaded day): each listed
  user's kept session days per day, each worth its day's events over its day's kept session days. The user is
  the upper half of the session key (`hash(user_pseudo_id)`), a number, and the kept days are about one per six
  events: at 180 days of 55,000 events a day, 0.03 CPU s where counting the events cost 0.12-0.2, for sizes
  within a few per cent (the listed users of a new day: 879,447 events, estimated 845,000). The sizes only
  decide where one statement ends and the next begins: a range a little bigger than its estimate is counted
  the same, with a little more of DuckDB's memory;
- from the events (a store without kept session days), exactly.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from generator.sql.session_facts import FACTS

from .period_shift import LISTED

Counted = tuple[tuple[dt.date, dt.date], bool]

_IN_REACH = """
WHERE p.day BETWEEN l.period_start AND l.period_end + $reach::INTEGER AND (NOT l.capped OR p.day <= $cap)
GROUP BY ALL"""

FROM_EVENTS = f"""
WITH per_user_date AS (
    SELECT user_pseudo_id, event_date, count(*) AS n FROM events
    WHERE user_pseudo_id IN (SELECT user_pseudo_id FROM {LISTED}) GROUP BY ALL
),
per_user_day AS (  -- each (user, date) made a DATE once, not each event
    SELECT user_pseudo_id, strptime(event_date, '%Y%m%d')::DATE AS day, n FROM per_user_date
)
SELECT l.period_start, l.period_end, l.capped, sum(p.n)
FROM {LISTED} l JOIN per_user_day p USING (user_pseudo_id)""" + _IN_REACH

FROM_FACTS = f"""
WITH listed AS (  -- a user as the upper half of their session keys holds them
    SELECT period_start, period_end, capped, hash(user_pseudo_id) AS user_key FROM {LISTED}
),
kept AS (
    SELECT CAST(session_key >> 64 AS UBIGINT) AS user_key, event_day AS day FROM {FACTS}
    WHERE session_key IS NOT NULL
),
worth AS (  -- a kept session day's share of its day's events
    SELECT k.day, d.rows / k.n AS events
    FROM (SELECT day, count(*) AS n FROM kept GROUP BY day) k
    JOIN loaded_days d ON d.event_date = strftime(k.day, '%Y%m%d')
),
per_user_day AS (
    SELECT user_key, day, count(*) AS n FROM kept WHERE user_key IN (SELECT user_key FROM listed) GROUP BY ALL
)
SELECT l.period_start, l.period_end, l.capped, round(sum(p.n * w.events))
FROM listed l JOIN per_user_day p USING (user_key) JOIN worth w USING (day)""" + _IN_REACH


def listed_spreads(con: duckdb.DuckDBPyConnection, reach: int, cap: dt.date | None, facts: bool) -> dict[Counted, int]:
    """{(range, counted up to `cap`): the events it spreads over its users in `listed_users`}, from the kept
    session days when `facts` (they are right for every loaded day: `session_facts.facts_ready`), else from the
    events (see the module's docstring)."""
    sql = FROM_FACTS if facts else FROM_EVENTS
    return {((start, end), capped): int(n) for start, end, capped, n in
            con.execute(sql, {"reach": reach, "cap": cap}).fetchall()}
