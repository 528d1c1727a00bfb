"""Targets (optionally time-phased) and the status thresholds around them."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from ._base import Strict


class TargetStep(Strict):
    """A target value that holds from a date until the next step."""

    from_: dt.date = Field(alias="from", strict=False)
    """The first day this target holds (YYYY-MM-DD)."""
    value: int | float


class Thresholds(Strict):
    """Where amber and red start. Use `*_below` for KPIs that should go up, `*_above` for down."""

    warn_below: int | float | None = None
    critical_below: int | float | None = None
    warn_above: int | float | None = None
    critical_above: int | float | None = None

    def for_direction(self, direction: str) -> tuple[float | None, float | None]:
        """(warn, critical) for the KPI's direction."""
        if direction == "up":
            return self.warn_below, self.critical_below
        return self.warn_above, self.critical_above
