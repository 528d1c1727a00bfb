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
