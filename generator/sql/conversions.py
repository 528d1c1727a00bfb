"""Conversions: of the users (or sessions) with `from` on a day, the share with `to` within the window.

Dated by the `from` event's day. Per day and unit (user or session), the first `from` event starts the
window; the unit converts when it has a `to` event at that moment or up to `window_seconds` later (for a
per-session conversion, in the same session). Breakdowns describe that first `from` event and its session.

A conversion that starts on `end_date` can end after it, so the query reads the `to` events of the days after
`end_date` too: `extension_days` is the window plus one hour (a daylight-saving change moves the event
dates, which are local, against the timestamps, which are UTC), rounded up to whole days. `from` events of
those extra days are not counted.

One equality join between the day's starts and the `to` events (few per user) finds the conversions, with
no correlated subquery per row.
"""

from __future__ import annotations

import math

from sqlglot import exp

from ..plan.queries import PlanConversion

STARTS = "conversion_starts"
ENDS = "conversion_ends"
CONVERSIONS = "conversions"
MICROSECONDS = 1_000_000


def extension_days(window_seconds: int) -> int:
    """Days after `end_date` whose `to` events can still complete a conversion."""
    return math.ceil((window_seconds + 3600) / 86400)


def unit_key(conv: PlanConversion) -> str:
    return "user_pseudo_id" if conv.per == "user" else "session_key"


def conversion_ctes(conv: PlanConversion, rows: str, breakdowns: list[str]) -> list[tuple[str, exp.Select]]:
    """CTEs ending in `conversions`: one row per day and unit, with `converted` 0 or 1."""
    unit = exp.column(unit_key(conv))
    present = unit.copy().is_(exp.null()).not_()
    starts = (
        exp.select("event_day", exp.alias_(unit.copy(), "unit_key"),
                   exp.alias_(exp.Min(this=exp.column("event_timestamp")), "started_at"),
                   *(exp.alias_(exp.ArgMin(this=exp.column(b), expression=exp.column("event_timestamp")), b)
                     for b in breakdowns))
        .from_(rows)
        .where(exp.and_(exp.column("is_from"), present))
        .group_by("event_day", unit.copy())
    )
    ends = (
        exp.select(exp.alias_(unit.copy(), "unit_key"), exp.alias_(exp.column("event_timestamp"), "ended_at"))
        .from_(rows)
        .where(exp.and_(exp.column("is_to"), present.copy()))
    )
    start_at, end_at = exp.column("started_at", table="s"), exp.column("ended_at", table="e")
    within = exp.and_(
        exp.EQ(this=exp.column("unit_key", table="e"), expression=exp.column("unit_key", table="s")),
        exp.GTE(this=end_at, expression=start_at),
        exp.LTE(this=end_at.copy(),
                expression=exp.Add(this=start_at.copy(),
                                   expression=exp.Literal.number(conv.window_seconds * MICROSECONDS))),
    )
    converted = exp.Max(this=exp.Case(
        ifs=[exp.If(this=exp.column("unit_key", table="e").is_(exp.null()), true=exp.Literal.number(0))],
        default=exp.Literal.number(1)))
    keys = [exp.column("event_day", table="s"), exp.column("unit_key", table="s"),
            *(exp.column(b, table="s") for b in breakdowns)]
    conversions = (
        exp.select(*(k.copy() for k in keys), exp.alias_(converted, "converted"))
        .from_(exp.alias_(exp.to_table(STARTS), "s", table=True))
        .join(exp.alias_(exp.to_table(ENDS), "e", table=True), on=within, join_type="left")
        .group_by(*keys)
    )
    return [(STARTS, starts), (ENDS, ends), (CONVERSIONS, conversions)]
