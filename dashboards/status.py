"""A KPI's status for a period: where its value stands against the target and the thresholds."""

from __future__ import annotations

from enum import Enum
from typing import Literal

# the named colours of `st.metric(delta_color=…)` a status takes
Colour = Literal["red", "orange", "blue", "gray", "green"]


class Status(Enum):
    """Status, most urgent first; `.value` is the order the overview sorts by."""

    CRITICAL = 0
    WARN = 1
    BELOW_TARGET = 2
    NO_DATA = 3
    ON_TRACK = 4
    NO_TARGET = 5

    @property
    def colour(self) -> Colour:
        """A named colour `st.metric(delta_color=…)` accepts."""
        return _COLOURS[self]

    @property
    def icon(self) -> str:
        """A Material icon whose shape tells the status apart without colour vision."""
        return _ICONS[self]

    @property
    def badge(self) -> str:
        """The icon in the status colour, as Markdown for a card label."""
        return f":{self.colour}[{self.icon}]"

    @property
    def words(self) -> str:
        return _WORDS[self]

    @property
    def off_track(self) -> bool:
        return self in (Status.CRITICAL, Status.WARN, Status.BELOW_TARGET)


_COLOURS: dict[Status, Colour] = {
    Status.CRITICAL: "red",
    Status.WARN: "orange",
    # Not yellow: beside the orange warning, amber and orange read as one colour.
    Status.BELOW_TARGET: "blue",
    Status.NO_DATA: "gray",
    Status.ON_TRACK: "green",
    Status.NO_TARGET: "gray",
}
_ICONS = {
    Status.CRITICAL: ":material/error:",
    Status.WARN: ":material/warning:",
    Status.BELOW_TARGET: ":material/flag:",  # a shape unlike the warning's triangle
    Status.NO_DATA: ":material/help:",
    Status.ON_TRACK: ":material/check_circle:",
    Status.NO_TARGET: ":material/radio_button_unchecked:",
}
_WORDS = {
    Status.CRITICAL: "critical",
    Status.WARN: "warning",
    Status.BELOW_TARGET: "off target",
    Status.NO_DATA: "no data",
    Status.ON_TRACK: "on track",
    Status.NO_TARGET: "no target",
}


def evaluate_status(
    value: float | None,
    target: float | None,
    direction: str,
    warn: float | None = None,
    critical: float | None = None,
) -> Status:
    """Status from the value, the target and the thresholds, read in the KPI's direction.

    direction "up": value ≥ target is on track; below `critical` is critical, below `warn` a warning,
    anything else under the target is off target. "down" mirrors it (thresholds are "above" limits).
    """
    if value is None:
        return Status.NO_DATA
    if target is None:
        return Status.NO_TARGET
    if direction not in ("up", "down"):
        raise ValueError(f"direction must be 'up' or 'down', not {direction!r}")
    sign = 1.0 if direction == "up" else -1.0
    # Flip "down" KPIs so one set of comparisons reads "higher is better".
    if sign * value >= sign * target:
        return Status.ON_TRACK
    if critical is not None and sign * value < sign * critical:
        return Status.CRITICAL
    if warn is not None and sign * value < sign * warn:
        return Status.WARN
    return Status.BELOW_TARGET
