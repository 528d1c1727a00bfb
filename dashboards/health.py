"""Data health of a KPI: are the events it depends on arriving, and arriving valid?"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

INVALID_RATE_LIMIT = 0.05  # more than 5% of an event's hits failing its schema lights the card
STALE_AFTER_DAYS = 7  # an event unseen for a week before the data's last day has stopped arriving


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
    """Which of a KPI's events are missing (absent in the period, or stopped), which invalid beyond the limit."""

    missing: tuple[str, ...] = ()
    invalid: tuple[tuple[str, float], ...] = ()
    last_seen: tuple[tuple[str, date | None], ...] = ()  # for the missing ones

    @property
    def ok(self) -> bool:
        return not self.missing and not self.invalid

    @property
    def badge(self) -> str | None:
        """A small Markdown badge (the data-health light) for the card label; None when healthy."""
        if self.missing:
            return ":red-badge[:material/sensors_off: data]"
        if self.invalid:
            return ":orange-badge[:material/report: data]"
        return None

    def explain(self) -> str:
        seen = dict(self.last_seen)
        parts = [
            f"`{name}` not seen since {seen[name]:%-d %b %Y}" if seen.get(name) else f"no `{name}` events"
            for name in self.missing
        ]
        parts += [f"{rate:.0%} of `{name}` events invalid" for name, rate in self.invalid]
        return "; ".join(parts) if parts else "all events arriving and valid"


def assess(
    kpi_events: Sequence[str],
    by_event: Mapping[str, EventHealth],
    data_end: date | None = None,
    limit: float = INVALID_RATE_LIMIT,
) -> DataHealth:
    """The health of one KPI from the health of each event it depends on.

    An event is missing when it has no hits in the period, or (given `data_end`) when it was last
    seen more than STALE_AFTER_DAYS before the data's last day; invalid when more than `limit` of
    its hits in the period failed validation.
    """
    missing, invalid, last_seen = [], [], []
    stale_before = data_end - timedelta(days=STALE_AFTER_DAYS) if data_end else None
    for name in kpi_events:
        health = by_event.get(name) or EventHealth(name)
        stopped = (
            stale_before is not None and health.last_seen is not None and health.last_seen < stale_before
        )
        rate = health.violation_rate
        if not health.events or stopped:
            missing.append(name)
            last_seen.append((name, health.last_seen))
        elif rate is not None and rate > limit:
            invalid.append((name, rate))
    return DataHealth(tuple(missing), tuple(invalid), tuple(last_seen))
