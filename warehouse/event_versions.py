"""Reading spec versions and consent back (no DuckDB, no generator: `kpi status` and the dashboard share it).

Rows of the serving copy's `event_spec_versions` (event_name, date, spec_version, events, no_consent_events)
become, per event, the share of its recent events by spec version, the version live now and since when.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

RECENT_DAYS = 7  # the shares by version are over the event's last week of data: what pages send now
NOT_STAMPED = "not stamped"

@dataclass
class VersionShare:
    version: str  # the kb_spec value, or NOT_STAMPED
    events: int  # in the event's last RECENT_DAYS of data
    share: float
    first_seen: dt.date
    last_seen: dt.date


@dataclass
class EventVersions:
    event: str
    spec_version: str  # what the spec says now ("" for an event the spec does not stamp)
    versions: list[VersionShare] = field(default_factory=list)
    live: str | None = None  # the version most of the event's last day carried
    live_since: dt.date | None = None  # the first day of the run of days it has been the most sent

    @property
    def state(self) -> str:
        if not self.spec_version:
            return ""
        if self.live == self.spec_version:
            return "current"
        if any(v.version == self.spec_version for v in self.versions):
            return "rolling out"
        return "not live"

    def as_dict(self) -> dict[str, object]:
        return {"spec_version": self.spec_version or None, "live_version": self.live,
                "live_since": self.live_since.isoformat() if self.live_since else None, "spec_state": self.state,
                "versions": [{"version": v.version, "events": v.events, "share": round(v.share, 4),
                              "first_seen": v.first_seen.isoformat(), "last_seen": v.last_seen.isoformat()}
                             for v in self.versions]}

    @property
    def text(self) -> str:
        """`0f499d26 82%, not stamped 18%`: the recent shares, most sent first."""
        return ", ".join(f"{v.version} {v.share:.0%}" for v in self.versions if v.events)


def event_versions(rows: list[tuple[str, dt.date, str | None, int]], spec: dict[str, str]) -> dict[str, EventVersions]:
    """Per event, from (event, date, spec_version, events) rows: the recent shares, the live version, since when."""
    by_event: dict[str, dict[dt.date, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for event, day, version, count in rows:
        counts = by_event[event][day]
        key = version or NOT_STAMPED
        counts[key] = counts.get(key, 0) + int(count)
    out = {}
    for event, days in by_event.items():
        ev = EventVersions(event, spec.get(event, ""))
        ordered = sorted(days)
        recent = [d for d in ordered if d > ordered[-1] - dt.timedelta(days=RECENT_DAYS)]
        totals: dict[str, int] = defaultdict(int)
        for d in recent:
            for version, n in days[d].items():
                totals[version] += n
        seen = {v: [d for d in ordered if v in days[d]] for v in {v for d in ordered for v in days[d]}}
        total = sum(totals.values())
        ev.versions = sorted((VersionShare(v, totals.get(v, 0), totals.get(v, 0) / total if total else 0.0,
                                           seen[v][0], seen[v][-1]) for v in seen),
                             key=lambda s: (-s.events, s.version))
        ev.live = _most(days[ordered[-1]])
        since = ordered[-1]
        for d in reversed(ordered):
            if _most(days[d]) != ev.live:
                break
            since = d
        ev.live_since = since
        out[event] = ev
    for event, version in spec.items():
        out.setdefault(event, EventVersions(event, version))
    return out


def _most(counts: dict[str, int]) -> str:
    return min(counts, key=lambda v: (-counts[v], v))


def kpi_consent(rows: list[tuple[str, int, int]], kpi_events: list[str]) -> tuple[int, int]:
    """(events without consent, events) of a KPI's events, from (event, events, no_consent_events) rows."""
    wanted = set(kpi_events)
    total = sum(int(n) for e, n, _ in rows if e in wanted)
    without = sum(int(c) for e, _, c in rows if e in wanted)
    return without, total
