"""A KPI file: what is measured, why, who owns it, and what good looks like."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from ._base import ID_PATTERN, Strict
from .alerts import AlertSettings
from .measure import Measure
from .target import PeriodTarget, TargetStep, Thresholds

Format = Literal["number", "percent", "currency", "duration"]


class ParamBreakdown(Strict):
    """A breakdown by one of the event's own params: `{param: lead_source}` (a GA4 custom dimension)."""

    param: str
    """A param of the measured event, e.g. `lead_source`; GA4 needs it registered as a custom dimension."""


class Kpi(Strict):
    """One KPI per file under `kpis/`."""

    version: Literal[1]
    """The file format version. Always `1` for now."""
    kpi: str = Field(pattern=ID_PATTERN)
    """The KPI's id: lowercase letters, digits and `_`, starting with a letter (at most 40)."""
    title: str = Field(min_length=1, max_length=80)
    """The name people see on the dashboard."""
    description: str = Field(min_length=1)
    """What is measured, in one or two sentences."""
    objective: str = Field(min_length=1)
    """The business objective this KPI serves, e.g. `Grow online revenue`."""
    owner: str = Field(min_length=1)
    """Who answers for this KPI (an e-mail address or a name)."""
    team: str = Field(min_length=1)
    """The team that owns it; the dashboard filters by team."""
    status: Literal["draft", "active", "deprecated", "retired"] = "active"
    """Only `active` KPIs are computed and shown; `retired` keeps the file (and its history) but drops the KPI."""
    tags: list[str] = Field(default_factory=list)
    """Free labels to find KPIs by, e.g. `[traffic, weekly-review]`."""
    measure: Measure
    """How the number is computed: exactly one kind."""
    format: Format = "number"
    """How the value is shown: `number`, `percent` (a share: write 0.03 for 3 %), `currency` (needs
    `currency:`) or `duration` (in seconds)."""
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    """ISO 4217 code (EUR, USD) when `format: currency`."""
    direction: Literal["up", "down"] = "up"
    """Whether higher (`up`) or lower (`down`) is better."""
    target: list[TargetStep] | PeriodTarget | int | float | None = None
    """A number, a list of `{from: YYYY-MM-DD, value: …}` steps for targets that change over time, or a
    target for a calendar period: `{per: month, value: 36000}` (see "Targets per period")."""
    thresholds: Thresholds | None = None
    """Where the status turns amber (`warn_…`) and red (`critical_…`)."""
    breakdowns: list[str | ParamBreakdown] = Field(default_factory=list, max_length=5)
    """The only dimensions the dashboard may offer for this KPI, e.g. `[channel, device_category]`."""
    purchases_without_transaction_id: Literal["count", "skip"] = "count"
    """Purchases that carry no transaction id (missing, empty or `(not set)`) cannot be deduplicated:
    `count` (the default, as GA4 does) counts each of them, `skip` leaves them out."""
    time_grain: Literal["day", "week", "month"] = "day"
    """The grain of the trend chart. A KPI counting users or sessions gets its exact value per calendar week
    stored only with `week` (per month always)."""
    alerts: AlertSettings | None = None
    """When `kpi alerts` tells the owner about a change (overrides the defaults in kpibridge.toml)."""

    @property
    def id(self) -> str:
        return self.kpi

    def target_steps(self) -> list[TargetStep]:
        """The target as steps, sorted by date (a plain number holds from the beginning of time)."""
        if self.target is None:
            return []
        if isinstance(self.target, PeriodTarget):
            if self.target.steps is not None:
                return sorted(self.target.steps, key=lambda s: s.from_)
            if self.target.value is None:
                return []
            return [TargetStep.model_validate({"from": dt.date(2000, 1, 1), "value": self.target.value})]
        if isinstance(self.target, list):
            return sorted(self.target, key=lambda s: s.from_)
        return [TargetStep.model_validate({"from": dt.date(2000, 1, 1), "value": self.target})]

    def target_per(self) -> str | None:
        """The calendar period a `per:` target is for (day, week, month, quarter), else None."""
        return self.target.per if isinstance(self.target, PeriodTarget) else None

    def target_is_steps(self) -> bool:
        """Whether the target changes over time (a list of steps, or `steps:` of a period target)."""
        return isinstance(self.target, list) or (isinstance(self.target, PeriodTarget) and self.target.steps is not None)

    def breakdown_names(self) -> list[str]:
        """Breakdowns as strings: built-in names, or `param:<name>` for event-param breakdowns."""
        return [b if isinstance(b, str) else f"param:{b.param}" for b in self.breakdowns]
