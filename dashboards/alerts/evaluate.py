"""Judge every active KPI on its last final days: status, change, data health; and the data's freshness.

The window is the last `window_days` days before the provisional ones (GA4 rewrites the last 3 days), so
a provisional day never triggers an alert on its own; the comparison is the window just before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import quote

import pandas as pd
from warehouse.periods import PROVISIONAL_DAYS, Period

from ..formatting import format_delta, format_value
from ..measures import aggregate, period_goal
from ..status import Status, evaluate_status
from .settings import AlertSettings, Thresholds
from .snapshot import Snapshot

ONSET_LOOKBACK_DAYS = 28
SEVERITY = {"critical": 0, "warning": 1}


@dataclass(frozen=True)
class Reason:
    """Why an alert fired. `kind` + `key` identify the condition (the state file remembers them)."""

    kind: str  # status | change | event_stopped | event_missing | violation_rate | late_data
    key: str
    severity: str  # critical | warning
    text: str
    since: date | None = None  # the first final day the condition held (within the look-back)

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "key": self.key, "severity": self.severity, "text": self.text,
                "since": self.since.isoformat() if self.since else None}


@dataclass(frozen=True)
class KpiAlert:
    """One KPI that needs attention (kpi_id None: the data as a whole, e.g. late)."""

    kpi_id: str | None
    title: str
    owner: str | None
    team: str | None
    link: str | None
    window: Period
    comparison: Period
    value_text: str = "—"
    target_text: str | None = None
    previous_text: str | None = None
    change_text: str | None = None
    status: str = "no data"
    value: float | None = None
    target: float | None = None
    previous: float | None = None
    reasons: tuple[Reason, ...] = field(default_factory=tuple)

    @property
    def severity(self) -> str:
        return min((r.severity for r in self.reasons), key=SEVERITY.__getitem__, default="warning")

    def keys(self) -> dict[str, Reason]:
        return {f"{self.kpi_id or '*'}|{r.kind}|{r.key}": r for r in self.reasons}

    def with_reasons(self, reasons: tuple[Reason, ...]) -> KpiAlert:
        from dataclasses import replace

        return replace(self, reasons=reasons)

    def as_dict(self) -> dict[str, object]:
        return {
            "kpi": self.kpi_id, "title": self.title, "owner": self.owner, "team": self.team,
            "severity": self.severity, "status": self.status, "value": self.value, "value_text": self.value_text,
            "target": self.target, "target_text": self.target_text, "previous": self.previous,
            "previous_text": self.previous_text, "change_text": self.change_text,
            "window": {"start": self.window.start.isoformat(), "end": self.window.end.isoformat()},
            "comparison": {"start": self.comparison.start.isoformat(), "end": self.comparison.end.isoformat()},
            "link": self.link, "reasons": [r.as_dict() for r in self.reasons],
        }


def windows(data_end: date, window_days: int) -> tuple[Period, Period]:
    """The last final days and the same number of days before them."""
    end = data_end - timedelta(days=PROVISIONAL_DAYS)
    window = Period(end - timedelta(days=window_days - 1), end, f"the {window_days} days to {end:%-d %b %Y}")
    before = Period(window.start - timedelta(days=window_days), window.start - timedelta(days=1),
                    f"the {window_days} days before")
    return window, before


def evaluate(snapshot: Snapshot, settings: AlertSettings, today: date) -> list[KpiAlert]:
    """Every condition that holds now, each with the first final day it held; most severe first."""
    window, before = windows(snapshot.data_end, settings.window_days)
    by_kpi = dict(iter(snapshot.totals.groupby("kpi_id", sort=False)))
    alerts = [_judge(kpi, by_kpi, snapshot, settings, window, before) for kpi in _definitions(snapshot)]
    alerts = [a for a in alerts if a.reasons]
    for i, alert in enumerate(alerts):  # when did each condition start? step back a day at a time
        alerts[i] = alert.with_reasons(tuple(_with_onset(r, alert, by_kpi, snapshot, settings, window)
                                             for r in alert.reasons))
    late = _late(snapshot, settings, today, window, before)
    if late is not None:
        alerts.append(late)
    return sorted(alerts, key=lambda a: (SEVERITY[a.severity], a.kpi_id is not None, a.title.lower()))


def _definitions(snapshot: Snapshot) -> list:
    return list(snapshot.definitions.itertuples(index=False))


def _with_onset(reason, alert, by_kpi, snapshot, settings, window) -> Reason:
    from dataclasses import replace

    kpi = next(k for k in _definitions(snapshot) if k.kpi_id == alert.kpi_id)
    onset = window.end
    for back in range(1, ONSET_LOOKBACK_DAYS + 1):
        end = window.end - timedelta(days=back)
        w = Period(end - timedelta(days=window.days - 1), end, "")
        b = Period(w.start - timedelta(days=window.days), w.start - timedelta(days=1), "")
        earlier = _judge(kpi, by_kpi, snapshot, settings, w, b)
        if not any(r.kind == reason.kind and r.key == reason.key for r in earlier.reasons):
            break
        onset = end
    return replace(reason, since=onset)


def _judge(kpi, by_kpi, snapshot: Snapshot, settings: AlertSettings, window: Period, before: Period) -> KpiAlert:
    limits = settings.for_kpi(kpi.format, kpi._asdict())
    rows = by_kpi.get(kpi.kpi_id, snapshot.totals.iloc[0:0])
    value = _value(rows, window, kpi.aggregation)
    previous = _value(rows, before, kpi.aggregation)
    per = getattr(kpi, "target_per", None) or kpi.time_grain
    goal = period_goal(snapshot.targets_of(kpi.kpi_id), window, kpi.aggregation, per,
                       _num(kpi.warn_threshold), _num(kpi.critical_threshold))
    status = evaluate_status(value, goal.target, kpi.direction, goal.warn, goal.critical)
    fmt, cur = kpi.format, kpi.currency
    alert = KpiAlert(
        kpi.kpi_id, kpi.title or kpi.kpi_id, kpi.owner, kpi.team,
        f"{settings.dashboard_url.rstrip('/')}/kpi?kpi={quote(kpi.kpi_id)}", window, before,
        value_text=format_value(value, fmt, cur),
        target_text=format_value(goal.target, fmt, cur) if goal.target is not None else None,
        previous_text=format_value(previous, fmt, cur) if previous is not None else None,
        change_text=format_delta(value, previous, fmt), status=status.words,
        value=value, target=goal.target, previous=previous,
    )
    if not limits.enabled:
        return alert
    reasons: list[Reason] = []
    if status in (Status.CRITICAL, Status.WARN):
        level = "critical" if status is Status.CRITICAL else "warning"
        limit = goal.critical if status is Status.CRITICAL else goal.warn
        side = "below" if kpi.direction == "up" else "above"
        reasons.append(Reason("status", level, level, (
            f"{level}: {alert.value_text} over {_days(window)} is {side} the {level} level "
            f"{format_value(limit, fmt, cur)} (target {alert.target_text})")))
    change = _change(value, previous, kpi.direction, limits)
    if change is not None:
        word = "down" if value < previous else "up"  # type: ignore[operator]
        size = "from zero" if change == float("inf") else f"{change:.0%}"
        reasons.append(Reason("change", word, "warning", (
            f"{'fell' if word == 'down' else 'rose'} {size} against {_days(before)}: {alert.previous_text} → "
            f"{alert.value_text}; alerts from {limits.relative_change:.0%} and {_amount(limits.absolute_change, fmt, cur)}")))
    reasons += _health(kpi.events or (), snapshot, limits, window)
    return alert.with_reasons(tuple(reasons))


def _value(rows: pd.DataFrame, period: Period, aggregation: str) -> float | None:
    """The KPI over a period; for counts and sums a day without a row counts as 0 (nothing happened)."""
    inside = rows[(rows["date"] >= period.start) & (rows["date"] <= period.end)]
    value = aggregate(inside, aggregation)
    if value is None and aggregation == "sum" and len(rows) and rows["date"].min() <= period.start:
        return 0.0
    return value


def _change(value: float | None, previous: float | None, direction: str, limits: Thresholds) -> float | None:
    """The relative change when it is bad and big enough both ways (relative and absolute), else None."""
    if value is None or previous is None:
        return None
    diff = value - previous
    bad = diff < 0 if direction == "up" else diff > 0
    if not bad or abs(diff) < limits.absolute_change:
        return None
    relative = abs(diff) / abs(previous) if previous else float("inf")
    return relative if relative >= limits.relative_change else None


def _health(events, snapshot: Snapshot, limits: Thresholds, window: Period) -> list[Reason]:
    quality = snapshot.quality
    if quality.empty:  # no raw events (a Data API-only warehouse): event health cannot be judged
        return []
    out = []
    for name in events:
        mine = quality[(quality["event_name"] == name) & (quality["events"] > 0)]
        inside = mine[(mine["date"] >= window.start) & (mine["date"] <= window.end)]
        count = int(inside["events"].sum())
        if count == 0:
            seen = mine[mine["date"] <= window.end]["date"]
            if len(seen):
                out.append(Reason("event_stopped", name, "critical", (
                    f"data: `{name}` stopped arriving: none in {_days(window)}, last seen {max(seen):%-d %b %Y}")))
            else:
                out.append(Reason("event_missing", name, "critical",
                                  f"data: no `{name}` events in {_days(window)} (nor before)"))
            continue
        rate = int(inside["invalid_events"].sum()) / count
        if rate > limits.max_violation_rate:
            out.append(Reason("violation_rate", name, "warning", (
                f"data: {rate:.1%} of `{name}` events in {_days(window)} break the spec "
                f"(limit {limits.max_violation_rate:.1%})")))
    return out


def _late(snapshot: Snapshot, settings: AlertSettings, today: date, window: Period, before: Period):
    behind = (today - snapshot.data_end).days
    if behind <= settings.late_after_days:
        return None
    since = snapshot.data_end + timedelta(days=settings.late_after_days + 1)
    reason = Reason("late_data", "late", "warning", (
        f"data: the newest day of data is {snapshot.data_end:%-d %b %Y}, {behind} days ago; it usually arrives "
        f"within {settings.late_after_days} day(s). Check the GA4 export and `kpi load` / `kpi refresh`"), since)
    return KpiAlert(None, "Data freshness", None, None, None, window, before, reasons=(reason,))


def _days(period: Period) -> str:
    return f"the {period.days} days {period.start:%-d %b}–{period.end:%-d %b %Y}"


def _amount(value: float, fmt: str | None, currency: str | None) -> str:
    return f"{value * 100:g} pp" if fmt == "percent" else format_value(value, fmt, currency)


def _num(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)
