"""Pacing: where a KPI stands in its current calendar period, and where it will land.

The current period is the week (Monday to Sunday), month or quarter holding the newest day of data. The
value so far is the KPI over the days gone; the target so far is the period's target for those days
(spread evenly by day for counts and amounts; a rate's target is the rate itself). The projection says
how it was made: `linear` (the pace so far holds) or `last_period` (the rest of the period goes as the
same days of the previous period did).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from warehouse.periods import Period, add_months, month_end, quarter_end, quarter_start

from .measures import Targets, aggregate, period_goal, target_in_force

PERIODS = ("week", "month", "quarter")
METHODS = {
    "linear": "linear: the pace so far holds for the rest of the period",
    "last_period": "the rest of the period goes as the same days of the previous period did",
}


def calendar_period(day: date, per: str) -> Period:
    """The whole week (Monday–Sunday), month or quarter holding `day`."""
    if per == "week":
        start = day - timedelta(days=day.weekday())
        return Period(start, start + timedelta(days=6), "this week")
    if per == "month":
        return Period(day.replace(day=1), month_end(day), "this month")
    if per == "quarter":
        return Period(quarter_start(day), quarter_end(day), "this quarter")
    raise ValueError(f"no pacing per {per!r}; expected one of {', '.join(PERIODS)}")


def previous_period(period: Period, per: str) -> Period:
    if per == "week":
        return Period(period.start - timedelta(days=7), period.start - timedelta(days=1), "last week")
    start = add_months(period.start, -1 if per == "month" else -3)
    return Period(start, period.start - timedelta(days=1), f"last {per}")


def pacing_grain(target_per: str | None, time_grain: str | None) -> str | None:
    """The period pacing is shown for: the target's `per:`, else a week or month trend grain; None for a day."""
    for grain in (target_per, time_grain):
        if grain in PERIODS:
            return grain
        if grain:
            return None
    return None


@dataclass(frozen=True)
class Pacing:
    period: Period  # the whole current period
    elapsed: Period  # its days up to the newest day of data
    per: str
    method: str
    value: float | None
    target_so_far: float | None
    target: float | None  # for the whole period
    projection: float | None
    line: pd.DataFrame  # date, kind (actual / target / projection), value: cumulative for counts and amounts

    @property
    def method_words(self) -> str:
        return METHODS[self.method]


def pacing(rows: pd.DataFrame, targets: Targets, aggregation: str, per: str, method: str, data_end: date) -> Pacing:
    """Pacing of one KPI from its daily totals (which must reach back to the previous period's start)."""
    period = calendar_period(data_end, per)
    elapsed = Period(period.start, min(data_end, period.end), "so far")
    before = previous_period(period, per)
    now = _between(rows, elapsed.start, elapsed.end)
    rest = _between(rows, before.start + timedelta(days=elapsed.days), before.end)
    value = _value(now, aggregation)
    whole = period_goal(targets, period, aggregation, per).target
    so_far = period_goal(targets, elapsed, aggregation, per).target if aggregation == "sum" else \
        target_in_force(targets, elapsed.end)
    if method == "last_period":
        projection = _value(pd.concat([now, rest]), aggregation) if len(rest) or elapsed.end == period.end else None
    else:
        projection = value * period.days / elapsed.days if aggregation == "sum" and value is not None else value
    line = _line(now, rest, targets, aggregation, per, period, elapsed, method, value, projection)
    return Pacing(period, elapsed, per, method, value, so_far, whole, projection, line)


def _line(now, rest, targets, aggregation, per, period, elapsed, method, value, projection) -> pd.DataFrame:
    """Cumulative actual to date, the cumulative target over the whole period, the projection after today."""
    out = []
    days = [period.start + timedelta(days=i) for i in range(period.days)]
    for day in days:
        so_far = Period(period.start, day, "")
        goal = period_goal(targets, so_far, aggregation, per).target if aggregation == "sum" else \
            target_in_force(targets, day)
        if goal is not None:
            out.append((day, "target", goal))
        if day <= elapsed.end:
            actual = _value(_between(now, period.start, day), aggregation)
            if actual is not None:
                out.append((day, "actual", actual))
    if projection is not None and value is not None and elapsed.end < period.end:
        out.append((elapsed.end, "projection", value))
        if aggregation == "sum" and method == "linear":
            pace = value / elapsed.days
            out += [(day, "projection", pace * (i + 1)) for i, day in enumerate(days) if day > elapsed.end]
        elif aggregation == "sum":
            extra = 0.0
            shift = {d: v for d, v in zip(rest["date"], rest["value"].fillna(0.0), strict=True)}
            previous_start = rest["date"].min() if len(rest) else None
            for i, day in enumerate(d for d in days if d > elapsed.end):
                if previous_start is not None:
                    extra += shift.get(previous_start + timedelta(days=i), 0.0)
                out.append((day, "projection", value + extra))
        else:
            out.append((period.end, "projection", projection))
    return pd.DataFrame(out, columns=["date", "kind", "value"])


def _between(rows: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    return rows[(rows["date"] >= start) & (rows["date"] <= end)]


def _value(rows: pd.DataFrame, aggregation: str) -> float | None:
    value = aggregate(rows, aggregation)
    return 0.0 if value is None and aggregation == "sum" else value
