"""A shifted range's session counts and new users from the days' own values, and a few users' parts (issue 13).

A shift (`period_shift.py`) moves a stored range R to R' by counting again the parts of every user with an
event on a day the two treat differently: their events over the whole of both ranges, which at 180 days of
history is most of a new day's cost. For a KPI that counts sessions (`sessions`, `sessions_with`,
`engaged_sessions`), events (`count`, `sum`, `average`) or new users (`new_users`), and formulas adding those up,
a user's part of a range is the sum of their parts of its days, as the days' stored values count them
(`kpi_values`; a session is grouped per day there, `generator/sql/buckets.py`), unless one of these holds for the
user (`odd_users`):

1. one of their sessions with a kept row on a day R and R' treat differently has a kept row on another day (a
   session over midnight is one session of a range, and one of each of its days);
2. they have a `first_visit` on such a day and one on another day (one new user of a range, one of each day);
3. a session of theirs without GA4's last click (which carries an earlier click) has a click of theirs within 30
   days before it that a day's statement and a range's could see differently: a session of several days, a
   click not at its session's first event (a range's lookback dates a session by its click, its own days by
   its first event), or a click dated outside the 30 days of days before the session (a clock change).

For everyone else, value(R') = value(R) − the removed days' values + the added days' values. The few users M
for whom it fails are counted apart, by one listed statement (`period_values.run_shift`) over R, R' and each
day that differs:

    value(R') = value(R) − Σ removed days + Σ added days − M's R + M's R' + M's removed days − M's added days

which is exact whatever M holds, as long as the days' values count M's parts as M's statement does. Where M is
empty the days' values are the stored ones for the days the last refresh counted (`kpi_values`, with the KPIs'
current definitions) and this refresh's for the days it counts (`FreshDays`): for everyone else a day's part does
not depend on the days its statement read. Where M is not (a real export's sessions cross midnight into every new
day), a day's stored value may count an odd user's part as its statement read them (a session over midnight
described from the days read, a click dated by its session's start where the statement holds that day), so the
days that differ are counted again, by the statement of one-day ranges over everyone, as M's parts are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from generator.plan.queries import DerivedQuery, KpiQuery, QueryPlan
from generator.sql.attribution import LOOKBACK_DAYS
from generator.sql.measures import FIRST_VISIT
from generator.sql.session_facts import FACTS, SINGLE

from .kpi_values import SOURCE
from .period_shift import LISTED, shifted_rows, summable

Range = tuple[dt.date, dt.date]
Rows = list[dict[str, object]]
DAY_KINDS = frozenset({"sessions", "sessions_with", "engaged_sessions", "new_users", "count", "sum", "average"})
"""The measures whose part of a range is, for all but a few users, the sum of their parts of its days."""
_DAY = dt.timedelta(days=1)
_MICROS_30_DAYS = LOOKBACK_DAYS * 86_400_000_000


@dataclass(frozen=True)
class FreshDays:
    """The daily values this refresh computed (`staged`: tables of `kpi_values`' columns) and the (KPI, YYYYMMDD)
    they replace (`recomputed`): a day a shift adds is read from them, not from the table, where it was counted."""

    staged: list[pa.Table] = field(default_factory=list)
    recomputed: frozenset[tuple[str, str]] = frozenset()


def day_part_kpis(plan: QueryPlan, kpi_ids: Iterable[str]) -> list[str]:
    """The KPIs of `kpi_ids` whose values a shift can move by their days' values (see the module's docstring)."""
    def plain(kid: str) -> bool:
        queries = _counted(plan, kid)
        return queries is not None and all(
            getattr(q, "kind", None) in ("simple", "ratio")
            and all(m.kind in DAY_KINDS and not m.first_ever for m in q.measures()) for q in queries)

    return [kid for kid in kpi_ids if plain(kid) and summable(plan, [kid])]


def _counted(plan: QueryPlan, kid: str) -> list[KpiQuery] | None:
    """The KPIs counted from events that `kid` is (itself) or is derived from; None when one is not in the plan."""
    q = plan.kpis.get(kid)
    if not isinstance(q, DerivedQuery):
        return None if q is None else [q]
    found = [_counted(plan, c) for c in q.components]
    return None if any(f is None for f in found) else [x for f in found for x in f or []]


def differing(old: Range, new: Range, cap: dt.date) -> tuple[list[dt.date], list[dt.date]]:
    """(the days `old` counted, up to `cap`, that `new` does not; the days `new` counts that `old` did not)."""
    def days(r: Range) -> list[dt.date]:
        return [r[0] + n * _DAY for n in range((r[1] - r[0]).days + 1)]

    counted = {d for d in days(old) if d <= cap}
    wanted = days(new)
    return sorted(counted - set(wanted)), [d for d in wanted if d not in counted]


def odd_users(con: duckdb.DuckDBPyConnection, plan: QueryPlan, kpi_ids: list[str], changed: set[dt.date],
              first: dt.date, last: dt.date) -> list[str]:
    """The users for whom a range's part is not the sum of their days' parts (the module's 1-3), for the days
    `changed` and the ranges within `first` … `last`."""
    days = sorted(changed)
    users = {u for (u,) in con.execute(f"""
        WITH touched AS (  -- a session of one kept row is flagged so (`session_facts._mark_single`)
            SELECT DISTINCT session_key FROM {FACTS}
            WHERE list_contains($days, event_day) AND session_key IS NOT NULL AND {SINGLE} IS NOT TRUE
        )
        SELECT any_value(session_visitor) FROM {FACTS}
        WHERE session_key IN (SELECT session_key FROM touched)
        GROUP BY session_key HAVING count(DISTINCT event_day) > 1
    """, {"days": days}).fetchall()}  # noqa: S608 - constant SQL
    if any(m.kind == "new_users" for kid in kpi_ids for q in _counted(plan, kid) or [] for m in q.measures()):
        users |= {u for (u,) in con.execute("""
            WITH touched AS (  -- a first visit on a day that differs: few users, whose first visits are read
                SELECT DISTINCT user_pseudo_id FROM events
                WHERE event_name = $first_visit AND list_contains($days, event_date) AND user_pseudo_id IS NOT NULL
            )
            SELECT user_pseudo_id FROM events
            WHERE event_name = $first_visit AND user_pseudo_id IN (SELECT user_pseudo_id FROM touched)
            GROUP BY user_pseudo_id HAVING count(DISTINCT event_date) > 1
        """, {"first_visit": FIRST_VISIT, "days": [d.strftime("%Y%m%d") for d in days]}).fetchall()}
    users |= {u for (u,) in con.execute(f"""
        WITH kept AS NOT MATERIALIZED (  -- a user as the upper half of their session keys (a number, where the id is text)
            SELECT session_key, CAST(session_key >> 64 AS UBIGINT) AS user_key, session_visitor AS visitor,
                event_day AS day, session_started_at AS started, session_click_at AS clicked, session_click AS click,
                session_last_click AS last_click
            FROM {FACTS} WHERE session_key IS NOT NULL
        ),
        carrying AS (  -- a session day a click may be carried to: without GA4's last click, in the ranges
            SELECT any_value(user_key) AS user_key, day, min(started) AS first_at, max(started) AS last_at FROM kept
            WHERE last_click IS NULL AND day BETWEEN $first AND $last GROUP BY session_key, day
        ),
        theirs AS (SELECT * FROM kept WHERE user_key IN (SELECT user_key FROM carrying)),
        split AS (SELECT session_key FROM theirs GROUP BY session_key HAVING count(DISTINCT day) > 1),
        clicks AS (  -- their session days with a click, as a statement groups a session's rows of a day
            SELECT any_value(user_key) AS user_key, any_value(visitor) AS visitor, day, min(started) AS started,
                min(clicked) FILTER (WHERE click IS NOT NULL) AS clicked,
                session_key IN (SELECT session_key FROM split) AS split
            FROM theirs GROUP BY session_key, day HAVING count(click) > 0
        )
        SELECT DISTINCT c.visitor FROM carrying x JOIN clicks c ON c.user_key = x.user_key
        WHERE least(c.started, c.clicked) <= x.last_at AND greatest(c.started, c.clicked) >= x.first_at - $window
            AND (c.split OR c.started <> c.clicked OR c.day > x.day OR c.day < x.day - $lookback::INTEGER)
    """, {"first": first, "last": last, "window": _MICROS_30_DAYS, "lookback": LOOKBACK_DAYS}).fetchall()}
    return sorted(u for u in users if u is not None)


def day_rows(con: duckdb.DuckDBPyConnection, plan: QueryPlan, kpi_ids: list[str], days: set[dt.date],
             fresh: FreshDays | None = None) -> dict[dt.date, Rows] | None:
    """Each day's values of `kpi_ids`: this refresh's where it counted them (`fresh`), else the stored ones (as
    the last refresh left them: the refresh writes its own after); None when a stored one was counted under
    another definition or by another engine (the shift then counts as before)."""
    out: dict[dt.date, Rows] = {day: [] for day in days}
    recomputed = fresh.recomputed if fresh is not None else frozenset()
    hashes = {kid: plan.kpis[kid].definition_hash for kid in kpi_ids}
    cursor = con.execute(
        "SELECT kpi_id, date, breakdown, breakdown_value, numerator, denominator, definition_hash, engine "
        "FROM kpi_values WHERE source = $s AND list_contains($ids, kpi_id) AND list_contains($days, date)",
        {"s": SOURCE, "ids": sorted(hashes), "days": sorted(days)})
    for kid, day, breakdown, value_of, num, den, digest, engine in cursor.fetchall():
        if (kid, day.strftime("%Y%m%d")) in recomputed:
            continue
        if digest != hashes[kid] or engine != "duckdb":
            return None
        out[day].append(_row(kid, breakdown, value_of, num, den))
    for table in fresh.staged if fresh is not None else []:
        columns = ["kpi_id", "date", "breakdown", "breakdown_value", "numerator", "denominator"]
        for r in table.select(columns).to_pylist():
            day = r["date"]
            if day in out and r["kpi_id"] in hashes and (r["kpi_id"], day.strftime("%Y%m%d")) in recomputed:
                out[day].append(_row(r["kpi_id"], r["breakdown"], r["breakdown_value"], r["numerator"],
                                     r["denominator"]))
    return out


def _days_of(con: duckdb.DuckDBPyConnection, users: list[str], days: set[dt.date]) -> set[dt.date]:
    """The days of `days` on which one of `users` has an event."""
    found = con.execute("SELECT DISTINCT event_date FROM events WHERE list_contains($days, event_date) "
                        "AND list_contains($users, user_pseudo_id)",
                        {"days": [d.strftime("%Y%m%d") for d in days], "users": users}).fetchall()
    return {dt.datetime.strptime(d, "%Y%m%d").date() for (d,) in found}


def _row(kid: str, breakdown: str, value_of: str, numerator: object, denominator: object) -> dict[str, object]:
    return {"kpi_id": kid, "breakdown": breakdown, "breakdown_value": value_of, "numerator": numerator,
            "denominator": denominator}


def list_users(con: duckdb.DuckDBPyConnection, users: list[str], entries: list[tuple[Range, bool]]) -> None:
    """The table `listed_users` of `period_values.run_shift`: every one of `users` under every entry."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {LISTED} AS
        SELECT e.period_start, e.period_end, e.capped, u.user_pseudo_id
        FROM (SELECT unnest($starts) AS period_start, unnest($ends) AS period_end, unnest($capped) AS capped) e
        CROSS JOIN (SELECT unnest($users) AS user_pseudo_id) u
    """, {"starts": [r[0] for r, _ in entries], "ends": [r[1] for r, _ in entries],  # noqa: S608 - constant SQL
          "capped": [c for _, c in entries], "users": users})


def shifted_by_days(con: duckdb.DuckDBPyConnection, plan: QueryPlan, kpi_ids: list[str],
                    shifts: dict[Range, tuple[Range, Range]], cap: dt.date, fresh: FreshDays,
                    ) -> dict[Range, Rows] | None:
    """The rows of `kpi_ids` (`day_part_kpis`) of each range of `shifts` ({R': (R, as stored)}), from R's stored
    rows, the days' values and the odd users' parts (see the module's docstring); None when a day's stored values
    are not the current definitions' (then the caller shifts them as before)."""
    from .period_values import _stored_range, run_periods, run_shift  # the one place that counts ranges

    parts = {new: differing(old, new, cap) for new, (old, _) in shifts.items()}
    removed = {d for rem, _ in parts.values() for d in rem}
    added = {d for _, add in parts.values() for d in add}
    before_days, now_days = day_rows(con, plan, kpi_ids, removed), day_rows(con, plan, kpi_ids, added, fresh)
    if before_days is None or now_days is None:
        return None
    first = min(min(old[0], new[0]) for new, (old, _) in shifts.items())
    last = max(max(old[1], new[1]) for new, (old, _) in shifts.items())
    odd = odd_users(con, plan, kpi_ids, removed | added, first, last)
    counted: dict[tuple[Range, bool], Rows] = {}
    if odd:
        # a day's stored value counts an odd user's part as the statement that counted it read them (a session
        # over midnight described from the days it read, a click dated by the session's start where the
        # statement holds that session's day): the days' values are counted again here, as the odd users' parts
        # are, by the statement of one-day ranges, over everyone (the others' parts are the same either way)
        touched = _days_of(con, odd, removed | added)  # the others' values hold no odd user's part
        again = run_periods(con, plan, kpi_ids, [(d, d) for d in sorted(touched)]) if touched else {}
        before_days |= {d: again[(d, d)] for d in removed & touched}
        now_days |= {d: again[(d, d)] for d in added & touched}
        entries = list(dict.fromkeys([*((old, True) for old, _ in shifts.values()), *((new, False) for new in shifts),
                                      *(((d, d), True) for d in sorted(removed & touched)),
                                      *(((d, d), False) for d in sorted(added & touched))]))
        list_users(con, odd, entries)
        try:
            counted = run_shift(con, plan, kpi_ids, entries, cap)
        finally:
            con.execute(f"DROP TABLE IF EXISTS {LISTED}")
    out: dict[Range, Rows] = {}
    for new, (old, stored) in shifts.items():
        rem, add = parts[new]
        base = [row for row in _stored_range(con, stored) if row["kpi_id"] in kpi_ids]
        before = [*(r for d in rem for r in before_days[d]), *counted.get((old, True), []),
                  *(r for d in add for r in counted.get(((d, d), False), []))]
        after = [*(r for d in add for r in now_days[d]), *counted.get((new, False), []),
                 *(r for d in rem for r in counted.get(((d, d), True), []))]
        out[new] = shifted_rows(plan, base, before, after)
    return out
