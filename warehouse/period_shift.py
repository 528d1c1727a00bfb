"""A range's exact values from a stored range and the few users who make the two differ (issue 13 §3).

Every number `kpi_period_values` stores is a sum over users of what each user contributes: a user, a session,
a conversion and a first visit each belong to one user, a ratio stores its numerator and denominator, and a
derived KPI here is an affine formula of such sums. When the newest day moves a range R (stored at the last
refresh) to R', a user contributes differently only if one of their days plays another part in the two: in
the range, in the days after it a conversion window reads, or in the 30 days of attribution lookback before
it (`_role`); or if they share a transaction id with such a user (which purchase counts first). For those
users U (`list_shift_users`):

    value(R') = value(R) − U's part of R (the data as it was: no day after the last refresh's) + U's part of R'

each part counted by the periods statement over U's events only (`list_shift_users`,
`generator/sql/periods.spread_over_periods`); everyone else's part is the same in both and cancels. A day
adds about a day's users to each range, whatever the history, where counting R' again reads all its events.

For the KPIs whose ranges add up their days' values but for a few users (session counts, event counts and sums,
new users), `day_parts.py` moves R by the days' values and counts only those users apart; the others (users,
conversions per user) are shifted here.

Used when the refresh only adds days after the last refresh's (no reload, no late day, the same definitions),
every KPI counted adds up that way (`shiftable`), and a stored range differs from R' by few enough events
(`WORTH`); any other range is counted in full (`period_values.run_periods`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import duckdb
import pyarrow as pa
from sqlglot import exp

from generator.plan.formula import BinOp, Expr, Neg, Num, Ref, ratio_parts
from generator.plan.queries import DerivedQuery, QueryPlan
from generator.sql.attribution import LOOKBACK_DAYS
from generator.sql.batch import statement_reach
from generator.sql.transactions import transaction_id

from .refresh_days import parse_day

Range = tuple[dt.date, dt.date]
Key = tuple[str, str, str]  # kpi_id, breakdown, breakdown_value
Counted = tuple[Range, bool]
"""A range, and whether it is counted as the last refresh counted it (as if no day after its last were loaded)."""
TRANSACTION_ID = transaction_id(exp.column("transaction_id", table="ecommerce")).sql("duckdb")
"""A purchase's id in the store's SQL, NULL for GA4's placeholders of a missing id (`transactions.transaction_id`)."""
LISTED = "listed_users"
"""Each range's users, for `period_values.run_shift` (`list_shift_users`) and `run_periods` (`period_spans.py`)."""
WORTH = 3
"""A shift reads U's events in both ranges: it is used when the events of the days that differ, times this,
are fewer than R' holds."""
NEAR = 7
"""Stored ranges whose first and last days are this close to the new range's are the candidates."""


def shiftable(plan: QueryPlan, kpi_ids: Iterable[str]) -> bool:
    """True when each KPI's stored numerator and denominator are sums over users (see the module's docstring)."""
    def additive(kid: str) -> bool:  # its value itself is such a sum
        q = plan.kpis[kid]
        return q.aggregation == "sum" and (not isinstance(q, DerivedQuery) or derived_ok(q))

    def derived_ok(q: DerivedQuery) -> bool:
        parts = ratio_parts(q.formula) or (q.formula,)
        return all(c in plan.kpis and additive(c) for c in q.components) and all(_degree(p) <= 1 for p in parts)

    return all(not isinstance(plan.kpis[k], DerivedQuery) or derived_ok(plan.kpis[k])  # type: ignore[arg-type]
               for k in kpi_ids)


def summable(plan: QueryPlan, kpi_ids: Iterable[str]) -> bool:
    """True when each KPI's stored numerator and denominator are sums over users with nothing added: a sum of
    parts then adds up to the whole (`period_spans.py`), where a shift only takes one part from another
    (`shiftable` lets a derived KPI add a constant: `revenue + 5`)."""
    def ok(kid: str) -> bool:
        q = plan.kpis[kid]
        return not isinstance(q, DerivedQuery) or (
            all(_homogeneous(p) for p in (ratio_parts(q.formula) or (q.formula,)))
            and all(ok(c) for c in q.components if c in plan.kpis))

    ids = list(kpi_ids)
    return shiftable(plan, ids) and all(ok(k) for k in ids)


def _homogeneous(expr: Expr) -> bool:
    """The formula is a sum of KPIs times numbers, with no number added (zero parts make zero)."""
    if isinstance(expr, Ref):
        return True
    if isinstance(expr, Num):
        return False
    if isinstance(expr, Neg):
        return _homogeneous(expr.operand)
    assert isinstance(expr, BinOp)
    if expr.op in "+-":
        return _homogeneous(expr.left) and _homogeneous(expr.right)
    if expr.op == "*":
        return (_degree(expr.left) == 0 and _homogeneous(expr.right)) or \
            (_homogeneous(expr.left) and _degree(expr.right) == 0)
    return _homogeneous(expr.left) and _degree(expr.right) == 0


def _degree(expr: Expr) -> float:
    """The formula's degree in its KPIs (affine: at most 1); a division by a KPI is not affine."""
    if isinstance(expr, Ref):
        return 1
    if isinstance(expr, Num):
        return 0
    if isinstance(expr, Neg):
        return _degree(expr.operand)
    assert isinstance(expr, BinOp)
    left, right = _degree(expr.left), _degree(expr.right)
    if expr.op in "+-":
        return max(left, right)
    if expr.op == "*":
        return left + right
    return left if right == 0 else float("inf")


def _role(day: dt.date, period: Range, reach: int, cap: dt.date | None = None) -> str | None:
    """What the periods statement reads `day` for when it counts `period` with the data up to `cap`."""
    start, end = period
    if cap is not None and day > cap:
        return None
    if start <= day <= end:
        return "range"
    if end < day <= end + dt.timedelta(days=reach):
        return "window"
    if start - dt.timedelta(days=LOOKBACK_DAYS) <= day < start:
        return "lookback"
    return None


def differing_days(old: Range, new: Range, reach: int, cap: dt.date) -> list[dt.date]:
    """The days read for another part in `new` than in `old` (counted with the data up to `cap`)."""
    first = min(old[0], new[0]) - dt.timedelta(days=LOOKBACK_DAYS)
    last = max(old[1], new[1]) + dt.timedelta(days=reach)
    days = (first + dt.timedelta(days=n) for n in range((last - first).days + 1))
    return [d for d in days if _role(d, old, reach, cap) != _role(d, new, reach)]


def plan_shifts(con: duckdb.DuckDBPyConnection, plan: QueryPlan, kpi_ids: list[str], wanted: list[Range],
                loaded: dict[str, dt.datetime], also: Iterable[str] = (),
                ) -> tuple[dict[Range, tuple[Range, Range]], dt.date | None]:
    """({range to count: (the stored range to shift it from, as it is stored)}, the last day the stored ranges
    read), or ({}, None) when the stored ranges cannot be shifted (see the module's docstring). A stored range
    is stored with its preset's first day, which may be before the first loaded day: it counts from that day."""
    found = con.execute("SELECT max(refreshed_at) FROM refresh_log").fetchall()[0][0]
    if found is None or not kpi_ids or not shiftable(plan, kpi_ids) or ids_shared_with_pings(con):
        return {}, None
    before = [parse_day(d) for d, at in loaded.items() if at <= found]
    fresh = {d for d, at in loaded.items() if at > found}
    if not before or not fresh or not set(also) <= fresh or min(parse_day(d) for d in fresh) <= max(before):
        return {}, None
    hashes = {kid: plan.kpis[kid].definition_hash for kid in kpi_ids}
    kept: dict[str, set[tuple[str, str]]] = {}
    for kid, digest, engine in con.execute("SELECT DISTINCT kpi_id, definition_hash, engine FROM kpi_period_values "
                                           "WHERE list_contains($ids, kpi_id)", {"ids": kpi_ids}).fetchall():
        kept.setdefault(kid, set()).add((digest, engine))
    if any(kept.get(kid) != {(hashes[kid], "duckdb")} for kid in kpi_ids):
        return {}, None
    cap, first = max(before), min(before)
    from .period_values import SOME_KPIS_CALENDAR  # the grains stored for some KPIs only (weeks)

    # the stored ranges, but a week (stored for the KPIs with a weekly trend only) if not for each of the KPIs
    stored = {(max(a, first), b): (a, b) for a, b in con.execute(
        "SELECT period_start, period_end FROM kpi_period_values GROUP BY ALL "
        "HAVING bool_or(NOT list_contains($some, grain)) "
        "OR count(DISTINCT kpi_id) FILTER (WHERE list_contains($ids, kpi_id)) = len($ids) ORDER BY ALL",
        {"ids": kpi_ids, "some": list(SOME_KPIS_CALENDAR)}).fetchall()}
    per_day = {parse_day(d): int(n) for d, n in con.execute("SELECT event_date, rows FROM loaded_days").fetchall()}
    reach = statement_reach(plan, kpi_ids)

    def events(days: Iterable[dt.date]) -> int:
        return sum(per_day.get(d, 0) for d in days)

    out: dict[Range, tuple[Range, Range]] = {}
    for new in wanted:
        inside = events(new[0] + dt.timedelta(days=n) for n in range((new[1] - new[0]).days + 1))
        near = [old for old in stored if abs((old[0] - new[0]).days) <= NEAR and abs((old[1] - new[1]).days) <= NEAR]
        costs = [(events(differing_days(old, new, reach, cap)), old) for old in near]
        if costs:
            cost, old = min(costs)
            if cost * WORTH < inside:
                out[new] = (old, stored[old])
    return out, cap


def ids_shared_with_pings(con: duckdb.DuckDBPyConnection) -> bool:
    """True when an event without a user (a cookieless ping) carries a transaction id a user's event carries too:
    which of the two purchases counts first then depends on an event that is no user's, so no user's part of a
    range says it; the ranges are counted in full.

    The pings' ids first: DuckDB skips every block of events without a ping by its statistics (a store without
    pings answers in milliseconds, where grouping every event's id cost 0.06 CPU s at 5M events), and only ids
    a ping carries are looked for among the users' events."""
    pings = [tid for (tid,) in con.execute(
        f"SELECT DISTINCT tid FROM (SELECT {TRANSACTION_ID} AS tid FROM events WHERE user_pseudo_id IS NULL) "
        "WHERE tid IS NOT NULL").fetchall()]
    return bool(pings) and bool(con.execute(
        f"SELECT count(*) FROM events WHERE user_pseudo_id IS NOT NULL AND list_contains($ids, {TRANSACTION_ID})",
        {"ids": pings}).fetchall()[0][0])


def list_shift_users(con: duckdb.DuckDBPyConnection, shifts: dict[Range, tuple[Range, list[dt.date]]]) -> None:
    """The table `listed_users` of `period_values.run_shift`, filled in one statement: for each range R' shifted
    from a stored range R (`shifts`: {R': (R, the days that play another part in the two)}), the users with an
    event on one of those days, and those sharing a transaction id with them, listed under R as the last refresh
    counted it (`capped`) and under R'. A stored range shifted to two ranges lists both ranges' users under
    each (a user counted in both parts that did not need to be cancels out)."""
    rows = [(new, old, day) for new, (old, days) in shifts.items() for day in [None, *days]]
    con.register("shift_days", pa.table({
        "new_start": pa.array([n[0] for n, _, _ in rows], pa.date32()),
        "new_end": pa.array([n[1] for n, _, _ in rows], pa.date32()),
        "old_start": pa.array([o[0] for _, o, _ in rows], pa.date32()),
        "old_end": pa.array([o[1] for _, o, _ in rows], pa.date32()),
        "event_date": pa.array([d and d.strftime("%Y%m%d") for _, _, d in rows], pa.string())}))  # None: the pair
    try:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE {LISTED} AS
            WITH direct AS (
                SELECT DISTINCT s.old_start, s.old_end, e.user_pseudo_id
                FROM events e JOIN shift_days s USING (event_date) WHERE e.user_pseudo_id IS NOT NULL
            ),
            carried AS MATERIALIZED (  -- the events with an id (a pushed-down filter), read once for both below
                SELECT user_pseudo_id, ecommerce.transaction_id AS tid FROM events
                WHERE ecommerce.transaction_id IS NOT NULL AND {TRANSACTION_ID} IS NOT NULL
            ),
            ids AS (  -- which purchase of an id counts first depends on every user who carried it
                SELECT DISTINCT d.old_start, d.old_end, c.tid FROM carried c JOIN direct d USING (user_pseudo_id)
            ),
            of_old AS (
                SELECT old_start, old_end, user_pseudo_id FROM direct
                UNION
                SELECT i.old_start, i.old_end, c.user_pseudo_id
                FROM carried c JOIN ids i USING (tid) WHERE c.user_pseudo_id IS NOT NULL
            )
            SELECT old_start AS period_start, old_end AS period_end, TRUE AS capped, user_pseudo_id FROM of_old
            UNION ALL
            SELECT p.new_start, p.new_end, FALSE, o.user_pseudo_id
            FROM (SELECT DISTINCT new_start, new_end, old_start, old_end FROM shift_days) p
            JOIN of_old o USING (old_start, old_end)
        """)
    finally:
        con.unregister("shift_days")


def shifted_rows(plan: QueryPlan, base: list[dict[str, object]], before: list[dict[str, object]],
                 after: list[dict[str, object]]) -> list[dict[str, object]]:
    """`base` − `before` + `after` per (kpi_id, breakdown, breakdown_value), in the rows' shape (kpi_id,
    breakdown, breakdown_value, numerator, denominator, value); rows that count nothing are left out
    (`counts_something`)."""
    sums: dict[Key, list[float | None]] = {}
    for rows, sign in ((base, 1), (before, -1), (after, 1)):
        for row in rows:
            key = (str(row["kpi_id"]), str(row["breakdown"]), str(row["breakdown_value"]))
            acc = sums.setdefault(key, [0.0, None])
            acc[0] = (acc[0] or 0.0) + sign * float(row["numerator"] or 0.0)  # type: ignore[arg-type]
            if row["denominator"] is not None:
                acc[1] = (acc[1] or 0.0) + sign * float(row["denominator"])  # type: ignore[arg-type]
    out = []
    for (kid, breakdown, value_of), (numerator, denominator) in sorted(sums.items()):
        ratio = plan.kpis[kid].aggregation == "ratio"
        num = _exact(numerator) or 0.0
        den = _exact(denominator) if ratio else None
        row = {"kpi_id": kid, "breakdown": breakdown, "breakdown_value": value_of, "numerator": num,
               "denominator": den, "value": (num / den if den else None) if ratio else num}
        if counts_something(plan, row):
            out.append(row)
    return out


def counts_something(plan: QueryPlan, row: dict[str, object]) -> bool:
    """False for a period row whose numerator and denominator are both 0 (or none), which is not stored: an event
    that meets a KPI's filter but has no user or session (a consent-mode ping) makes the statement give one; kept:
    the total of a KPI that is no ratio, 0 on a range with data. A user's part of a range cannot say whether such
    an event is in it, so no stored row depends on one."""
    if row["numerator"] or row["denominator"]:
        return True
    return row["breakdown"] == "" and plan.kpis[str(row["kpi_id"])].aggregation != "ratio"


def _exact(x: float | None) -> float | None:
    """A sum of counts is a whole number: drop what adding and subtracting floats left (money keeps its cents)."""
    if x is None:
        return None
    near = round(x)
    return float(near) if abs(x - near) < 1e-9 else round(x, 9)
