"""Data health of a KPI: are the events it depends on arriving, and arriving valid?"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

INVALID_RATE_LIMIT = 0.05  # more than 5% of an event's hits failing its schema lights the card


@dataclass(frozen=True)
class EventHealth:
    """One event over the period (from event_quality), with its last sighting (from event_status)."""

    event_name: str
    events: int = 0
    invalid_events: int = 0
    last_seen: date | None = None

    @property
    def violation_rate(self) -> float | None:
        return self.invalid_events / self.events if self.events else None


@dataclass(frozen=True)
class DataHealth:
    """Which of a KPI's events are missing in the period, and which are invalid beyond the limit."""

    missing: tuple[str, ...] = ()
    invalid: tuple[tuple[str, float], ...] = ()

    @property
    def ok(self) -> bool:
        return not self.missing and not self.invalid

    @property
    def badge(self) -> str | None:
        """A short Markdown badge for the card label, or None when the data is healthy."""
        if self.missing:
            return ":red-badge[:material/warning: events missing]"
        if self.invalid:
            return ":orange-badge[:material/warning: invalid events]"
        return None

    def explain(self) -> str:
        parts = [f"no `{name}` events in this period" for name in self.missing]
        parts += [f"{rate:.0%} of `{name}` events invalid" for name, rate in self.invalid]
        return "; ".join(parts) if parts else "all events arriving and valid"


def assess(
    kpi_events: Sequence[str], by_event: Mapping[str, EventHealth], limit: float = INVALID_RATE_LIMIT
) -> DataHealth:
    """The health of one KPI from the health of each event it depends on."""
    missing, invalid = [], []
    for name in kpi_events:
        health = by_event.get(name)
        rate = health.violation_rate if health else None
        if health is None or not health.events:
            missing.append(name)
        elif rate is not None and rate > limit:
            invalid.append((name, rate))
    return DataHealth(tuple(missing), tuple(invalid))
