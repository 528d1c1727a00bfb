"""KPI arithmetic on stored daily rows: period values, period targets, top-N breakdowns."""

from __future__ import annotations

import calendar
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
import pandas as pd
from warehouse.periods import Period, month_end, quarter_end, quarter_start

AGGREGATIONS = ("sum", "ratio", "mean")


def aggregate(rows: pd.DataFrame, aggregation: str) -> float | None:
    """A period's value from daily rows (columns value, numerator, denominator).

    sum: the daily values added; ratio: sum(numerator) / sum(denominator); mean: the average daily
    value. None when there are no rows (or no denominator), so "no data" never reads as zero.
    """
    check_aggregation(aggregation)
    if rows.empty:
        return None
    return day_sums(*float_columns(rows)).value(aggregation)


@dataclass(frozen=True)
class DaySums:
    """A period's daily rows reduced to what its value needs (so many KPIs' can be reduced at once,
    period_rows.py): the sum and count of the values, the sum of numerators, the sum of denominators (None
    when no row has one)."""

    rows: int
    value_sum: float
    value_count: int
    numerator_sum: float
    denominator_sum: float | None

    def value(self, aggregation: str) -> float | None:
        """The period's value, as `aggregate` defines it."""
        check_aggregation(aggregation)
        if not self.rows:
            return None
        if aggregation == "ratio":
            if self.denominator_sum is None or self.denominator_sum == 0:
                return None
            return self.numerator_sum / self.denominator_sum
        if not self.value_count:
            return None
        return self.value_sum if aggregation == "sum" else self.value_sum / self.value_count


def float_columns(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """value, numerator and denominator as float arrays, NaN for a missing number (None: no such column)."""
    return tuple(  # type: ignore[return-value]
        rows[name].to_numpy(dtype=float, na_value=np.nan) if name in rows else None
        for name in ("value", "numerator", "denominator")
    )


def day_sums(value: np.ndarray, numerator: np.ndarray | None, denominator: np.ndarray | None) -> DaySums:
    """The `DaySums` of a period's rows given as `float_columns`. Summed as pandas sums a Series (NaN
    skipped, pairwise): the values without the gaps, the numerators and denominators with gaps as zero;
    no denominator at all is None (`sum(min_count=1)`)."""
    values = value[~np.isnan(value)]
    return DaySums(
        rows=len(value),
        value_sum=float(values.sum()),
        value_count=len(values),
        numerator_sum=float(np.where(np.isnan(numerator), 0.0, numerator).sum()) if numerator is not None else 0.0,
        denominator_sum=(
            float(np.where(np.isnan(denominator), 0.0, denominator).sum())
            if denominator is not None and not np.isnan(denominator).all()
            else None
        ),
    )


def check_aggregation(aggregation: str) -> None:
    if aggregation not in AGGREGATIONS:
        raise ValueError(f"unknown aggregation {aggregation!r}; expected one of {', '.join(AGGREGATIONS)}")


Targets = Sequence[tuple[date, float]]  # (valid_from, value), sorted by valid_from


def target_in_force(targets: Targets, day: date) -> float | None:
    """The target holding on `day`: the latest one with valid_from ≤ day."""
    index = bisect_right([valid_from for valid_from, _ in targets], day)
    return float(targets[index - 1][1]) if index else None


@dataclass(frozen=True)
class Goal:
    """The target and thresholds that apply to one period, in the KPI's own units."""

    target: float | None
    warn: float | None
    critical: float | None


def period_goal(
    targets: Targets,
    period: Period,
    aggregation: str,
    time_grain: str | None,
    warn: float | None = None,
    critical: float | None = None,
) -> Goal:
    """The goal for a period: the target in force at the period's end date.

    For `sum` KPIs a target (and its thresholds) is an amount per time grain (e.g. revenue per
    month), so it is phased by day: each day of the period carries the target in force that day
    divided by the length of its grain period. A 7-day window of a €60,000-a-month target aims at
    about €14,000; a whole month at exactly €60,000. Rates (`ratio`, `mean`) need no phasing.
    """
    at_end = target_in_force(targets, period.end)
    grain_days = _grain_length(time_grain)
    if aggregation != "sum" or at_end is None or grain_days is None:
        return Goal(at_end, warn, critical)
    target = 0.0
    share = 0.0  # how many grain periods the period spans, e.g. 7/31 of a month
    starts = [valid_from for valid_from, _ in targets]
    day = period.start
    while day <= period.end:
        # A run of days sharing their grain's length (constant within a calendar month) and their target.
        length = grain_days(day)
        index = bisect_right(starts, day)  # target_in_force, without rebuilding `starts` for every day
        in_force = float(targets[index - 1][1]) if index else None
        last = min(period.end, month_end(day))
        if index < len(starts):
            last = min(last, starts[index] - timedelta(days=1))
        share_of_day = (in_force if in_force is not None else at_end) / length
        for _ in range((last - day).days + 1):  # still added day by day: the same sums to the last bit
            target += share_of_day
            share += 1 / length
        day = last + timedelta(days=1)
    return Goal(target, _scaled(warn, share), _scaled(critical, share))


def grain_start(day: date, time_grain: str | None) -> date:
    """The first day of the trend bucket holding `day`: itself, its ISO week's Monday, its month's 1st."""
    grain = _GRAIN_ALIASES.get((time_grain or "").lower(), (time_grain or "day").lower())
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day


def grain_days(day: date, time_grain: str | None) -> int:
    """How many days the bucket holding `day` has when whole: 1, 7, or the month's length."""
    length = _grain_length(
        time_grain if (time_grain or "").lower() in ("week", "weekly", "month", "monthly") else "day"
    )
    return length(day)


def trend(
    rows: pd.DataFrame,
    period: Period,
    aggregation: str,
    time_grain: str | None,
    targets: Targets,
    target_per: str | None = None,
) -> pd.DataFrame:
    """The KPI per bucket of its time grain across the period, with the goal for each bucket.

    Buckets at the period's edges are cut to the period (a week starting before it counts only the
    days inside), and their target is phased the same way, so a partial bucket is judged fairly.
    A target with a `per:` period is an amount per that period (else per time grain).
    Returns columns date (bucket start within the period), value, target, days.
    """
    buckets: dict[date, list[date]] = {}
    for day in _days(period):
        buckets.setdefault(grain_start(day, time_grain), []).append(day)
    by_day = {day: group for day, group in rows.groupby("date", sort=False)} if len(rows) else {}
    out = []
    for days in buckets.values():
        bucket = Period(days[0], days[-1], "bucket")
        present = [by_day[day] for day in days if day in by_day]
        value = aggregate(pd.concat(present), aggregation) if present else None
        target = period_goal(targets, bucket, aggregation, target_per or time_grain).target
        out.append((bucket.start, value, target, len(days)))
    return pd.DataFrame(out, columns=["date", "value", "target", "days"])


def shift_rows(rows: pd.DataFrame, days: int) -> pd.DataFrame:
    """Rows moved `days` later, to lay a comparison period over the current one."""
    return rows.assign(date=[day + timedelta(days=days) for day in rows["date"]])


def _scaled(threshold: float | None, share: float) -> float | None:
    return None if threshold is None else threshold * share


def _days(period: Period):
    for offset in range(period.days):
        yield period.start + timedelta(days=offset)


_GRAIN_ALIASES = {
    "daily": "day",
    "weekly": "week",
    "monthly": "month",
    "quarterly": "quarter",
    "yearly": "year",
    "annual": "year",
}


@lru_cache(maxsize=256)
def _month_days(year: int, month: int) -> int:
    # Asked for every day of every period of every card: cached per month.
    return calendar.monthrange(year, month)[1]


def _grain_length(time_grain: str | None):
    """A function day → length in days of the grain period containing it; None for an unknown grain."""
    grain = _GRAIN_ALIASES.get((time_grain or "").lower(), (time_grain or "").lower())
    if grain == "day":
        return lambda day: 1
    if grain == "week":
        return lambda day: 7
    if grain == "month":
        return lambda day: _month_days(day.year, day.month)
    if grain == "quarter":
        return lambda day: (quarter_end(day) - quarter_start(day)).days + 1
    if grain == "year":
        return lambda day: 366 if calendar.isleap(day.year) else 365
    return None
