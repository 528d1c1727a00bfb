"""What the per-day attribution method counts say: sessions per method, the runs of days with the same
methods (an export's eras), and the loud one-sentence warning, with its fix, for days without any source.
Pure (no DuckDB): `kpi refresh`, `kpi status` and the dashboard's KPI page all word it here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from generator.sql.attribution import METHODS

LABELS = {"ga4_channel_group": "GA4's channel group", "last_click": "GA4's last click",
          "derived_from_utm": "derived from UTM / gclid", "none": "no source (Direct)"}
FIX = ("load the export with its session_traffic_source_last_click and collected_traffic_source columns "
       "(exports before mid-2023 have neither), or tag campaign links with utm_source and utm_medium")


@dataclass(frozen=True)
class AttributionSummary:
    """Sessions per method over some days, and the days (YYYY-MM-DD) on which no session had any source."""

    sessions: dict[str, int] = field(default_factory=dict)
    days: int = 0
    no_source_days: list[str] = field(default_factory=list)

    def line(self) -> str | None:
        total = sum(self.sessions.values())
        if not total:
            return None
        shares = ", ".join(f"{m} {self.sessions[m] / total:.0%}" for m in METHODS if self.sessions.get(m))
        return (f"Channel attribution of {total:,} sessions over {self.days} day{'s' * (self.days != 1)}: "
                f"{shares}.")

    def shares_text(self) -> str:
        """`GA4's channel group 61% · derived from UTM / gclid 39% of 1,234 sessions` (methods in use only)."""
        total = sum(self.sessions.values())
        shares = " · ".join(f"{LABELS[m]} {self.sessions[m] / total:.0%}" for m in METHODS if self.sessions.get(m))
        return f"{shares} of {total:,} sessions" if total else ""

    def warning(self) -> str | None:
        return no_source_warning(self.no_source_days)

    def as_dict(self) -> dict[str, object]:
        return {"sessions": {m: self.sessions.get(m, 0) for m in METHODS}, "days": self.days,
                "no_source_days": list(self.no_source_days)}


def no_source_warning(days: Sequence[str]) -> str | None:
    """One sentence with the fix, for the days (YYYY-MM-DD) on which no session had a session-level source."""
    if not days:
        return None
    shown = days[0] if len(days) == 1 else f"{len(days)} days ({_spans(days)})"
    return (f"No session on {shown} has any session-level source (no session_traffic_source_last_click, "
            f"collected_traffic_source or UTM / gclid in page_location), so every session counts as Direct: {FIX}.")


def _spans(days: Sequence[str]) -> str:
    parsed = [dt.date.fromisoformat(d) for d in days]
    runs: list[list[dt.date]] = []
    for day in parsed:
        if runs and (day - runs[-1][-1]).days == 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    text = [f"{r[0]} … {r[-1]}" if len(r) > 1 else f"{r[0]}" for r in runs[:4]]
    return ", ".join(text) + (f" and {len(runs) - 4} more" if len(runs) > 4 else "")


def summarize(rows: Iterable[tuple[object, str, int]]) -> AttributionSummary:
    """(date, method, sessions) rows → sessions per method, the days, the days without any source."""
    per_day: dict[str, dict[str, int]] = {}
    for day, method, sessions in rows:
        per_day.setdefault(str(day), {})[method] = per_day.get(str(day), {}).get(method, 0) + int(sessions)
    totals: dict[str, int] = {}
    for counts in per_day.values():
        for method, n in counts.items():
            totals[method] = totals.get(method, 0) + n
    no_source = sorted(d for d, counts in per_day.items() if sum(counts.values()) and set(counts) == {"none"})
    return AttributionSummary(totals, len(per_day), no_source)


def runs(rows: Sequence[tuple[object, str, int]]) -> list[tuple[str, str, int, int, dict[str, int]]]:
    """Consecutive days with the same set of methods, as (first day, last day, days, sessions, per method):
    an export's eras show up as a few rows instead of one per day."""
    per_day: dict[str, dict[str, int]] = {}
    for day, method, sessions in rows:
        per_day.setdefault(str(day), {})[method] = int(sessions)
    out: list[tuple[str, str, int, int, dict[str, int]]] = []
    previous: dt.date | None = None
    for day in sorted(per_day):
        counts = per_day[day]
        current = dt.date.fromisoformat(day)
        same = (out and previous is not None and (current - previous).days == 1
                and set(out[-1][4]) == set(counts))
        if same:
            first, _, n, total, merged = out[-1]
            for m, c in counts.items():
                merged[m] += c
            out[-1] = (first, day, n + 1, total + sum(counts.values()), merged)
        else:
            out.append((day, day, 1, sum(counts.values()), dict(counts)))
        previous = current
    return out
