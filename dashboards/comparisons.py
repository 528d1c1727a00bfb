"""A card's comparisons: previous period, same period last year, and the target, each honest about gaps.

Each says what it compares with, the change, whether that change is good for the KPI's direction, and
whether its period has days without data (a +60 % against a month with data on 27 of 31 days is marked).
A comparison with no data says so instead of vanishing.
"""

from __future__ import annotations

from dataclasses import dataclass

from warehouse.periods import Period

from .formatting import format_delta, format_value
from .period_rows import PeriodRows
from .status import Colour

KINDS = ("previous", "year", "target")


@dataclass(frozen=True)
class Comparison:
    kind: str  # previous | year | target
    label: str  # "previous 28 days", "same weekdays last year", "target"
    reference: float | None
    reference_text: str
    delta_text: str | None
    good: bool | None  # the change goes the KPI's good way; None: no change, or nothing to compare
    period: Period | None = None
    days_with_data: int = 0

    @property
    def missing(self) -> bool:
        return self.reference is None

    @property
    def partial(self) -> bool:
        return self.period is not None and 0 < self.days_with_data < self.period.days

    def text(self) -> str:
        """ "vs previous 28 days (3–30 Sep 2026): +5.1% from €12,000", marked when partial or empty."""
        where = f"{self.label} ({self.period.describe()})" if self.period is not None else self.label
        if self.missing:
            return f"vs {where}: no data for that period"
        change = f"{self.delta_text} from {self.reference_text}" if self.delta_text else self.reference_text
        text = f"vs {where}: {change}"
        if self.period is not None and self.partial:
            text += f" ⚠ partial: data on {self.days_with_data} of {self.period.days} days"
        return text


def against_period(value: float | None, rows: PeriodRows, period: Period, kind: str, kpi,
                   exact: dict | None = None) -> Comparison:
    """The value against a comparison period's rows (its daily totals, reduced); for a KPI counting distinct
    units, against its `exact` value over that period (never a sum of days)."""
    if exact is not None:
        reference = exact.get((kpi.kpi_id, period.start, period.end))
    else:
        reference = rows.sums.value(kpi.aggregation)
    return _make(kind, period.label, value, reference, kpi, period, rows.days)


def against_target(value: float | None, target: float | None, kpi) -> Comparison | None:
    if target is None:
        return None
    return _make("target", "target", value, target, kpi)


def _make(kind, label, value, reference, kpi, period=None, days=0) -> Comparison:
    delta = format_delta(value, reference, kpi.format)
    good = None
    if value is not None and reference is not None and value != reference:
        good = (value > reference) == (kpi.direction != "down")
    text = format_value(reference, kpi.format, kpi.currency) if reference is not None else "no data"
    return Comparison(kind, label, reference, text, delta, good, period, days)


def other_periods(period, preset: str, chosen: str) -> list:
    """The comparison periods beside the chosen one: last year next to the previous period, and back."""
    from warehouse.periods import comparison_period

    if chosen == "none":
        return []
    return [comparison_period(period, preset, mode) for mode in ("previous", "year") if mode != chosen]


def delta_colour(status_colour: Colour, good: bool | None) -> Colour:
    """The delta's colour: the status colour, except that a change the wrong way is never green."""
    if status_colour == "green" and good is False:
        return "gray"
    return status_colour
