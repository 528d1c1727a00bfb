"""Cards as values: ordering, the cap, grouping, and the text around the number."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from dashboards.health import EventHealth
from dashboards.scorecard import MAX_CARDS, build_cards, cap_cards, group_cards, order_cards
from dashboards.status import Status
from warehouse.periods import Period

END = date(2026, 10, 28)
PERIOD = Period(date(2026, 10, 22), END, "Last 7 days")
PREVIOUS = Period(date(2026, 10, 15), date(2026, 10, 21), "previous 7 days")


def _definition(kpi_id, team="A", objective="O", direction="up", warn=None, critical=None, events=("e",)):
    return {
        "kpi_id": kpi_id,
        "title": kpi_id.title(),
        "objective": objective,
        "team": team,
        "format": "number",
        "currency": None,
        "direction": direction,
        "time_grain": "day",
        "aggregation": "sum",
        "warn_threshold": warn,
        "critical_threshold": critical,
        "events": events,
        "status": "active",
    }


def _totals(kpi_id, daily):
    days = [END - timedelta(days=i) for i in range(14)]
    return [
        {"kpi_id": kpi_id, "date": d, "value": daily, "numerator": daily, "denominator": None} for d in days
    ]


def _cards(definitions, targets, totals, events=None):
    return build_cards(
        pd.DataFrame(definitions),
        pd.DataFrame(targets, columns=["kpi_id", "valid_from", "value"]),
        pd.DataFrame(totals),
        events if events is not None else {"e": EventHealth("e", 100, 0, END)},
        PERIOD,
        PREVIOUS,
        END,
    )


def test_value_target_status_and_text():
    (card,) = _cards(
        [_definition("sales", warn=8.0, critical=5.0)],
        [("sales", date(2026, 1, 1), 10.0)],
        _totals("sales", 9.0),
    )
    assert card.value == 63.0 and card.goal.target == 70.0  # a daily target over 7 days
    assert card.status is Status.BELOW_TARGET
    assert card.delta_text == "+0.0%"  # the same daily values as the week before
    assert card.description() == "target 70"
    assert "Off target" in card.help_text() and "warning below 56" in card.help_text()
    assert card.label == ":blue[:material/flag:] Sales"


def test_missing_days_are_flagged():
    totals = [row for row in _totals("sales", 1.0) if row["date"] != END]
    (card,) = _cards([_definition("sales")], [], totals)
    assert card.partial_data and card.description() == "no target · 6 of 7 days"


def test_order_cap_and_groups():
    definitions = [_definition(f"k{i:02d}", team=f"T{i % 3}") for i in range(15)]
    targets = [(f"k{i:02d}", date(2026, 1, 1), 10.0) for i in range(15)]
    totals = [row for i in range(15) for row in _totals(f"k{i:02d}", 12.0 if i % 2 else 1.0)]
    ordered = order_cards(_cards(definitions, targets, totals))
    assert [c.status for c in ordered[:8]] == [Status.BELOW_TARGET] * 8
    shown, left_off = cap_cards(ordered)
    assert len(shown) == MAX_CARDS and left_off == 3
    groups = group_cards(shown, "team")
    assert sum(len(cards) for _, cards in groups) == MAX_CARDS
    assert groups[0][1][0].status is Status.BELOW_TARGET


def test_health_badge_in_label():
    (card,) = _cards([_definition("sales")], [], _totals("sales", 1.0), events={})
    assert card.health.missing == ("e",)
    assert ":red-badge[" in card.label
