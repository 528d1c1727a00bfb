"""Reporting periods: the date-range presets, fair comparison periods, partial and provisional days."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

PRESETS: dict[str, str] = {
    "7d": "Last 7 days",
    "28d": "Last 28 days",
    "90d": "Last 90 days",
    "mtd": "Month to date",
    "qtd": "Quarter to date",
    "custom": "Custom range",
}
COMPARISONS: dict[str, str] = {
    "previous": "Previous period",
    "year": "Same period last year",
    "none": "No comparison",
}
ROLLING_DAYS = {"7d": 7, "28d": 28, "90d": 90}
PROVISIONAL_DAYS = 3  # GA4 rewrites export tables for up to 3 days


@dataclass(frozen=True)
class Period:
    """An inclusive date range; `partial` when it stops before its calendar period ends (month to date)."""

    start: date
    end: date
    label: str
    partial: bool = False

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def describe(self) -> str:
        """ "1–28 Oct 2026" style text."""
        return format_range(self.start, self.end)


def format_range(start: date, end: date) -> str:
    if start == end:
        return f"{end.day} {end:%b %Y}"
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{end.day} {end:%b %Y}"
    if start.year == end.year:
        return f"{start.day} {start:%b} – {end.day} {end:%b %Y}"
    return f"{start.day} {start:%b %Y} – {end.day} {end:%b %Y}"


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarter_end(day: date) -> date:
    return month_end(date(day.year, 3 * ((day.month - 1) // 3) + 3, 1))


def add_months(day: date, months: int) -> date:
    """Same day-of-month `months` later, clamped to the target month's length (31 Mar − 1 → 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def resolve_period(preset: str, anchor: date, start: date | None = None, end: date | None = None) -> Period:
    """The period a preset means when the latest day with data is `anchor`.

    Presets end at `anchor` (not the wall clock), so a warehouse refreshed yesterday still shows full
    windows. A custom range keeps its own dates (swapped when given backwards).
    """
    if preset in ROLLING_DAYS:
        days = ROLLING_DAYS[preset]
        return Period(anchor - timedelta(days=days - 1), anchor, PRESETS[preset])
    if preset == "mtd":
        return Period(anchor.replace(day=1), anchor, PRESETS[preset], partial=anchor != month_end(anchor))
    if preset == "qtd":
        return Period(quarter_start(anchor), anchor, PRESETS[preset], partial=anchor != quarter_end(anchor))
    if preset == "custom":
        lo, hi = start or anchor - timedelta(days=27), end or anchor
        if lo > hi:
            lo, hi = hi, lo
        return Period(lo, hi, PRESETS[preset])
    raise ValueError(f"unknown period preset {preset!r}; expected one of {', '.join(PRESETS)}")


def comparison_period(period: Period, preset: str, mode: str) -> Period | None:
    """The comparable earlier period: same length and calendar-aligned, partial when `period` is.

    previous: rolling windows and custom ranges shift back by their own length; month / quarter to date
    compare with the same number of days into the prior month / quarter (clamped to its length).
    year: rolling windows shift back 52 weeks so weekdays line up; calendar periods shift one
    calendar year.
    """
    if mode == "none":
        return None
    if mode not in COMPARISONS:
        raise ValueError(f"unknown comparison {mode!r}; expected one of {', '.join(COMPARISONS)}")
    if preset in ("mtd", "qtd"):
        months = {"previous": -1 if preset == "mtd" else -3, "year": -12}[mode]
        start = add_months(period.start, months)
        if period.partial:
            end = min(start + timedelta(days=period.days - 1), _calendar_end(preset, start))
        else:
            end = _calendar_end(preset, start)
        label = {"mtd": "month", "qtd": "quarter"}[preset]
        what = f"prior {label} to date" if mode == "previous" else f"same {label} to date last year"
        return Period(start, end, what if period.partial else what.replace(" to date", ""), period.partial)
    if mode == "previous":
        shift = timedelta(days=period.days)
        return Period(period.start - shift, period.end - shift, f"previous {period.days} days")
    if preset in ROLLING_DAYS:
        shift = timedelta(weeks=52)
        return Period(period.start - shift, period.end - shift, "same weekdays last year")
    return Period(add_months(period.start, -12), add_months(period.end, -12), "same dates last year")


def _calendar_end(preset: str, day: date) -> date:
    return month_end(day) if preset == "mtd" else quarter_end(day)


def provisional_start(data_end: date) -> date:
    """First day still provisional: the last PROVISIONAL_DAYS days of data may be rewritten by GA4."""
    return data_end - timedelta(days=PROVISIONAL_DAYS - 1)


def provisional_days(period: Period, data_end: date) -> int:
    """How many of the period's days are still provisional."""
    first = max(period.start, provisional_start(data_end))
    last = min(period.end, data_end)
    return max(0, (last - first).days + 1)


def intraday_sentence(days: tuple[date, ...], start: date, end: date) -> str | None:
    """Which days of `start` … `end` come from GA4's intraday table only (provisional until the daily table
    is loaded), in one sentence; None when there are none."""
    shown = [day for day in days if start <= day <= end]
    if not shown:
        return None
    one = len(shown) == 1
    listed = ", ".join(f"{day:%-d %b}" for day in shown[:5]) + (f" and {len(shown) - 5} more" if len(shown) > 5 else "")
    return (f"{listed} {'comes' if one else 'come'} from GA4's intraday table only: {'its' if one else 'their'} "
            "numbers change when the daily table is loaded (`kpi load ga4-export`, then `kpi refresh`).")
