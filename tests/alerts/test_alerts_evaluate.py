"""evaluate() on a hand-made snapshot: the window skips provisional days; no raw events, no health verdict."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from dashboards.alerts.evaluate import evaluate, windows
from dashboards.alerts.settings import AlertSettings
from dashboards.alerts.snapshot import Snapshot

END = date(2026, 5, 31)


def snapshot(daily: list[float], quality: pd.DataFrame | None = None) -> Snapshot:
    days = [END - timedelta(days=len(daily) - 1 - i) for i in range(len(daily))]
    definitions = pd.DataFrame([{
        "kpi_id": "orders", "title": "Orders", "owner": "o@shop.example", "team": "t", "status": "active",
        "format": "number", "currency": None, "direction": "up", "time_grain": "day", "aggregation": "sum",
        "warn_threshold": None, "critical_threshold": None, "events": ("purchase",),
    }])
    totals = pd.DataFrame({"kpi_id": "orders", "date": days, "value": daily, "numerator": daily,
                           "denominator": None})
    empty = pd.DataFrame(columns=["date", "event_name", "events", "invalid_events"])
    return Snapshot(definitions, pd.DataFrame(columns=["kpi_id", "valid_from", "value"]), totals,
                    empty if quality is None else quality, END)


def test_the_window_is_the_seven_days_before_the_provisional_three():
    window, before = windows(END, 7)
    assert (window.start, window.end) == (date(2026, 5, 22), date(2026, 5, 28))
    assert (before.start, before.end) == (date(2026, 5, 15), date(2026, 5, 21))


def test_a_collapse_in_the_provisional_days_alone_is_not_reported():
    quiet = [100.0] * 28 + [0.0, 0.0, 0.0]
    assert evaluate(snapshot(quiet), AlertSettings(), END + timedelta(days=1)) == []
    fell = [100.0] * 21 + [10.0] * 10
    (alert,) = evaluate(snapshot(fell), AlertSettings(), END + timedelta(days=1))
    (reason,) = alert.reasons
    assert reason.kind == "change" and reason.key == "down"
    # From 22 May a day brings 10 instead of 100; the 7 days to 23 May are the first down 20 % or more (520 vs 700).
    assert reason.since == date(2026, 5, 23)


def test_without_raw_events_event_health_is_not_judged():
    assert evaluate(snapshot([100.0] * 31), AlertSettings(), END) == []
    quality = pd.DataFrame({"date": [END - timedelta(days=20)], "event_name": ["purchase"], "events": [5],
                            "invalid_events": [0]})
    (alert,) = evaluate(snapshot([100.0] * 31, quality), AlertSettings(), END)
    assert [r.kind for r in alert.reasons] == ["event_stopped"]
