"""Many ranges counted at once from where each user's days fall (issue 13): each user's events read about once.

Every number `kpi_period_values` stores is a sum over users of what each contributes (`period_shift.py`). A
user none of whose events is outside a range R (none before it, so nothing in its attribution lookback or in
the history of first events; none after it, so nothing in a conversion window), and who carries no transaction
id that anyone else carries (which purchase of an id counts first), contributes to R what they contribute to
any range holding all their days. With each user's first and last day (`user_spans`):

    value(R) = Σ, over the groups of such users inside R, of the group's part + the part of R's other users

The ranges' first days, and the days after their last days, cut the loaded days into pieces; the users whose
first days fall in one piece and whose last days fall in one piece are a group, inside the same ranges. Each
group's part is counted once, over its users' events only, by the `keyed` periods statement
(`generator/sql/periods.spread_over_periods`, the group's key a made-up DATE); the other users of each range
(an event in it and one outside it, or a shared transaction id) are counted per range by the periods statement
over their events only (`period_values.run_periods`). So an event is spread over the few ranges its user
straddles, not over every range holding it: at 5M events over 90 days the dashboard's 19 ranges spread 3.6×
the events one by one, 1.9× this way (`estimate`).

Used for a full count of two ranges or more when every KPI adds up with nothing added (`summable`), no
cookieless ping carries a user's transaction id (`period_shift.ids_shared_with_pings`), and the estimate says it
reads at most `WORTH` of what counting each range in full reads. Each user's event in a range is read once at
least, so ranges whose days overlap too little for that (a new day's last 7 days and the 7 before them, counted
in full) are ruled out from the days' counts alone, before every user's span is read (0.55 CPU s at 5M events).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

from generator.plan.queries import QueryPlan
from generator.sql.period_parameters import keyed_parameters, parameters_in, range_key
from generator.sql.periods import PERIOD_USERS, USER_KEY

from .connection import statement_events
from .period_shift import LISTED, TRANSACTION_ID, ids_shared_with_pings, shifted_rows, summable
from .refresh_days import parse_day
from .session_facts import facts_ready
from .statements import plan_sql

Range = tuple[dt.date, dt.date]
Rows = list[dict[str, object]]
SPANS = "user_spans"
KEYED = "span_keys"
WORTH = 0.75
"""Used when the estimated events spread are at most this share of counting every range in full."""
_DAY = dt.timedelta(days=1)


def spanned_periods(con: duckdb.DuckDBPyConnection, plan: QueryPlan, kpi_ids: list[str], wanted: list[Range],
                    loaded: list[str], worth: float = WORTH) -> dict[Range, Rows] | None:
    """The rows of every range of `wanted`, by range (grain `period`), or None where the ranges are better
    counted one by one (`period_values.run_periods`: the estimate is over `worth` of what that reads);
    `loaded`: the loaded days (YYYYMMDD)."""
    if len(wanted) < 2 or not summable(plan, kpi_ids) or ids_shared_with_pings(con):
        return None
    per_day = {parse_day(d): int(n) for d, n in con.execute("SELECT event_date, rows FROM loaded_days").fetchall()}
    whole = sum(per_day.get(day, 0) for period in wanted for day in _days_in(period))
    # each user's event in a range is read once at least (by the user's group, or per range they straddle), so
    # ranges that overlap little cannot gain: found without reading every user's span (0.55 CPU s at 5M events)
    days = {day for period in wanted for day in _days_in(period)}
    with_user = dict(con.execute(  # the ranges' days only (the table's days are in its blocks' statistics)
        "SELECT event_date, count(user_pseudo_id) FROM events WHERE event_date BETWEEN $first AND $last GROUP BY 1",
        {"first": min(days).strftime("%Y%m%d"), "last": max(days).strftime("%Y%m%d")}).fetchall())
    if sum(with_user.get(day.strftime("%Y%m%d"), 0) for day in days) > worth * whole:
        return None
    cuts = sorted({s for s, _ in wanted} | {e + _DAY for _, e in wanted})
    try:
        _user_spans(con, cuts)
        groups = _groups(con, cuts, wanted)
        straddling = _straddling(con, wanted)
        if sum(n for _, _, n in groups.values()) + sum(straddling.values()) > worth * whole:
            return None
        from .period_values import run_periods  # the one place that counts ranges

        parts = _run_groups(con, plan, kpi_ids, groups, parse_day(min(loaded)))
        _list_straddlers(con, wanted)
        others = run_periods(con, plan, kpi_ids, wanted, listed=straddling)
    finally:
        for table in (SPANS, KEYED, LISTED):
            con.execute(f"DROP TABLE IF EXISTS {table}")
    out: dict[Range, Rows] = {}
    for period in wanted:
        inside = [row for key, (_, ranges, _) in groups.items() if period in ranges for row in parts[key]]
        rows = shifted_rows(plan, inside, [], others[period])
        if _has_data(per_day, period):  # a range with events has every KPI's total (only pings: no user's part)
            totals = {str(r["kpi_id"]) for r in rows if r["breakdown"] == ""}
            rows += [{"kpi_id": kid, "breakdown": "", "breakdown_value": "", "numerator": 0.0, "denominator": None,
                      "value": 0.0} for kid in kpi_ids if kid not in totals and plan.kpis[kid].aggregation != "ratio"]
        out[period] = [{**row, "grain": "period", "period_start": period[0], "period_end": period[1]}
                       for row in rows]
    return out


def _days_in(period: Range) -> list[dt.date]:
    return [period[0] + n * _DAY for n in range((period[1] - period[0]).days + 1)]


def _has_data(per_day: dict[dt.date, int], period: Range) -> bool:
    return any(per_day.get(day, 0) for day in _days_in(period))


def _user_spans(con: duckdb.DuckDBPyConnection, cuts: list[dt.date]) -> None:
    """`user_spans`: per user, the first and last day of their events, their events, whether one of their
    transaction ids is carried by another user, and the pieces of the days
    (between `cuts`) their first and last days fall in (`i`, `j`: how many cuts are on or before them)."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {SPANS} AS
        WITH ids AS (  -- the events with an id only (a pushed-down filter: at 10M events 0.33 -> 0.06 CPU s)
            SELECT {TRANSACTION_ID} AS tid, user_pseudo_id FROM events WHERE ecommerce.transaction_id IS NOT NULL
        ),
        shared AS (SELECT tid FROM ids WHERE tid IS NOT NULL GROUP BY tid HAVING count(DISTINCT user_pseudo_id) > 1),
        spans AS (
            SELECT user_pseudo_id, strptime(min(event_date), '%Y%m%d')::DATE AS first_day,
                strptime(max(event_date), '%Y%m%d')::DATE AS last_day, count(*) AS events
            FROM events WHERE user_pseudo_id IS NOT NULL GROUP BY user_pseudo_id
        )
        SELECT s.*, s.user_pseudo_id IN (SELECT i.user_pseudo_id FROM ids i JOIN shared USING (tid)
                                         WHERE i.user_pseudo_id IS NOT NULL) AS shared,
            len(list_filter($cuts, lambda c: c <= s.first_day)) AS i,
            len(list_filter($cuts, lambda c: c <= s.last_day)) AS j
        FROM spans s
    """, {"cuts": cuts})


def _groups(con: duckdb.DuckDBPyConnection, cuts: list[dt.date], wanted: list[Range],
            ) -> dict[dt.date, tuple[Range, list[Range], int]]:
    """The groups inside one range of `wanted` or more, by key: (the days they span, those ranges, their
    events); `span_keys` holds each of their users with the group's key and last day."""
    groups: dict[dt.date, tuple[Range, list[Range], int]] = {}
    keys = []
    for i, j, events in con.execute(f"SELECT i, j, sum(events) FROM {SPANS} WHERE NOT shared AND i >= 1 "
                                    "AND j < $n GROUP BY ALL ORDER BY ALL", {"n": len(cuts)}).fetchall():
        hull = (cuts[i - 1], cuts[j] - _DAY)
        ranges = [r for r in wanted if r[0] <= hull[0] and hull[1] <= r[1]]
        if ranges:
            key = range_key(len(groups))
            groups[key] = (hull, ranges, int(events))
            keys.append({"i": i, "j": j, "key": key, "period_end": hull[1].strftime("%Y%m%d")})
    con.register("span_groups", pa.Table.from_pylist(keys, schema=pa.schema(
        [("i", pa.int64()), ("j", pa.int64()), ("key", pa.date32()), ("period_end", pa.string())])))
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {KEYED} AS SELECT g.key AS period_day, s.user_pseudo_id, "
                    f"g.period_end, s.events FROM {SPANS} s JOIN span_groups g USING (i, j) WHERE NOT s.shared")
    finally:
        con.unregister("span_groups")
    return groups


def _ranges_table(wanted: list[Range]) -> pa.Table:
    return pa.table({"period_start": pa.array([s for s, _ in wanted], pa.date32()),
                     "period_end": pa.array([e for _, e in wanted], pa.date32())})


_STRADDLING = f"""
    SELECT r.period_start, r.period_end, u.user_pseudo_id, u.events, u.first_day, u.last_day
    FROM {SPANS} u JOIN wanted_ranges r ON u.first_day <= r.period_end AND u.last_day >= r.period_start
    WHERE u.shared OR u.first_day < r.period_start OR u.last_day > r.period_end
"""


def _straddling(con: duckdb.DuckDBPyConnection, wanted: list[Range]) -> dict[Range, int]:
    """Per range, an estimate of the events of its other users inside it: each user's events spread evenly
    over the days from their first to their last."""
    con.register("wanted_ranges", _ranges_table(wanted))
    try:
        found = con.execute(f"""
            SELECT period_start, period_end, sum(events * (1 + date_diff('day', greatest(first_day, period_start),
                least(last_day, period_end))) / (1 + date_diff('day', first_day, last_day)))
            FROM ({_STRADDLING}) GROUP BY ALL
        """).fetchall()
    finally:
        con.unregister("wanted_ranges")
    out = {r: 0 for r in wanted}
    out |= {(s, e): int(n) + 1 for s, e, n in found}
    return out


def _list_straddlers(con: duckdb.DuckDBPyConnection, wanted: list[Range]) -> None:
    """`listed_users`: each range's other users (`period_values.run_periods`)."""
    con.register("wanted_ranges", _ranges_table(wanted))
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {LISTED} AS SELECT period_start, period_end, FALSE AS capped, "
                    f"user_pseudo_id FROM ({_STRADDLING})")
    finally:
        con.unregister("wanted_ranges")


def _run_groups(con: duckdb.DuckDBPyConnection, plan: QueryPlan, kpi_ids: list[str],
                groups: dict[dt.date, tuple[Range, list[Range], int]], first_day: dt.date) -> dict[dt.date, Rows]:
    """Each group's part of its ranges' numbers, by key, in statements of at most DuckDB's budget of events."""
    sql = plan_sql(con, plan, kpi_ids, bucket="period", many_periods=True, period_users=True, keyed_users=True,
                   facts=facts_ready(con, plan))
    budget = statement_events(con)
    batches: list[list[dt.date]] = []
    size = budget
    for key, (_, _, events) in sorted(groups.items(), key=lambda kv: -kv[1][2]):
        if size + events > budget:
            batches.append([])
            size = 0
        batches[-1].append(key)
        size += events
    out: dict[dt.date, Rows] = {key: [] for key in groups}
    for keys in batches:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {PERIOD_USERS} AS SELECT period_day, user_pseudo_id, period_end, "
                    f"hash(user_pseudo_id) AS {USER_KEY} FROM {KEYED} WHERE list_contains($keys, period_day)", {"keys": keys})
        try:
            parameters = keyed_parameters({key: groups[key][0] for key in keys}, first_day)
            cursor = con.execute(sql, parameters_in(sql, parameters))
            names = [d[0] for d in cursor.description]
            for values in cursor.fetchall():
                row = dict(zip(names, values, strict=True))
                key = row.pop("date")
                if key in out:
                    out[key].append(row)
        finally:
            con.execute(f"DROP TABLE IF EXISTS {PERIOD_USERS}")
    return out
