"""Targets (optionally time-phased) and the status thresholds around them."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from ._base import Strict


class TargetStep(Strict):
    """A target value that holds from a date until the next step."""

    from_: dt.date = Field(alias="from", strict=False)
    """The first day this target holds (YYYY-MM-DD)."""
    value: int | float
    """The target from that day on (a share like `0.03` for percent KPIs)."""


class Thresholds(Strict):
    """Where amber and red start. Use `*_below` for KPIs that should go up, `*_above` for down."""

    warn_below: int | float | None = None
    """`direction: up`: amber below this value (at most the target)."""
    critical_below: int | float | None = None
    """`direction: up`: red below this value (lower than `warn_below`)."""
    warn_above: int | float | None = None
    """`direction: down`: amber above this value (at least the target)."""
    critical_above: int | float | None = None
    """`direction: down`: red above this value (higher than `warn_above`)."""

    def for_direction(self, direction: str) -> tuple[float | None, float | None]:
        """(warn, critical) for the KPI's direction."""
        if direction == "up":
            return self.warn_below, self.critical_below
        return self.warn_above, self.critical_above


Per = Literal["day", "week", "month", "quarter"]


class PeriodTarget(Strict):
    """A target for a calendar period: `{per: month, value: 36000}`, or `steps:` that change over time."""

    per: Per
    """The period the target is for: `day`, `week` (Monday to Sunday), `month` or `quarter`. For counts and
    amounts it is the total of that period (36,000 a month); for rates it is the rate over that period."""
    value: int | float | None = None
    """The target for each `per` period (a share like `0.03` for percent KPIs)."""
    steps: list[TargetStep] | None = None
    """Instead of `value`: targets that change over time, each holding from its date until the next."""
    projection: Literal["linear", "last_period"] = "linear"
    """How the dashboard projects the current period's end: `linear` (the pace so far holds for the rest of
    the period) or `last_period` (the rest of the period goes as the same days of the previous period did)."""
