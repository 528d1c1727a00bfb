"""Spec versions and consent on the KPI page: which `kb_spec` version each of a KPI's events carries (live
since when) and how many of its events were sent without consent (cookieless pings, no `user_pseudo_id`).

Reads the serving copy's `event_spec_versions` and `event_spec` (written by each refresh).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from warehouse.event_versions import NOT_STAMPED, EventVersions, event_versions, kpi_consent

from . import cell_values, data


@dataclass(frozen=True)
class SpecHealth:
    versions: dict[str, EventVersions]  # per event: shares, live version, since when (up to the period's end)
    consent_rows: list[tuple[str, int, int]]  # (event, events, no_consent_events) in the period

    def live_text(self, event: str) -> str | None:
        """`0f499d26 since 2 Mar 2024 (current)`, `not stamped`, or None for an event the spec does not stamp."""
        ev = self.versions.get(event)
        if ev is None or ev.live is None:
            return None
        since = f" since {ev.live_since:%-d %b %Y}" if ev.live_since and ev.live != NOT_STAMPED else ""
        state = {"current": " (current)", "rolling out": f" ({ev.spec_version} rolling out)",
                 "not live": f" ({ev.spec_version} not live yet)"}.get(ev.state, "")
        return f"{ev.live}{since}{state}"

    def no_consent_share(self, events: Sequence[str]) -> float | None:
        without, total = kpi_consent(self.consent_rows, list(events))
        return without / total if total else None


def spec_health(path: Path, start: date, end: date) -> SpecHealth:
    stamps = data._read(path, "SELECT event_name, date, spec_version, events FROM event_spec_versions "
                              "WHERE date <= ? ORDER BY ALL", end)
    spec = data._read(path, "SELECT event_name, spec_version FROM event_spec")
    consent = data._read(path, "SELECT event_name, sum(events)::BIGINT AS events, "
                               "sum(no_consent_events)::BIGINT AS no_consent FROM event_spec_versions "
                               "WHERE date BETWEEN ? AND ? GROUP BY event_name", start, end)
    rows = [(e, cell_values.as_day(d), None if v is None or v != v else v, int(n))
            for e, d, v, n in stamps.itertuples(index=False)]
    versions = event_versions(rows, dict(zip(spec["event_name"], spec["spec_version"], strict=True)))
    return SpecHealth(versions, [(e, int(n), int(c)) for e, n, c in consent.itertuples(index=False)])
