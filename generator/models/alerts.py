"""A KPI's own alert settings: when a change against the comparison period is worth telling its owner."""

from __future__ import annotations

from ._base import Strict


class AlertSettings(Strict):
    """Overrides of the project's alert defaults (`[alerts]` in kpibridge.toml) for this KPI."""

    enabled: bool = True
    """`false`: `kpi alerts` never reports this KPI (its data health included)."""
    relative_change: int | float | None = None
    """A change against the comparison period alerts when it is at least this share of the earlier value
    (`0.2`: 20 %) in the bad direction…"""
    absolute_change: int | float | None = None
    """…and at least this much in the KPI's own units (`50` sessions, `0.005` for half a percentage point),
    so small numbers page nobody."""
    max_violation_rate: int | float | None = None
    """Alert when more than this share of an event the KPI needs fails its spec (`0.05`: 5 %)."""
