"""Issue 14 / 16 item 4: a card's comparisons (previous period, same period last year, target), marked
when their period lacks days, never vanishing silently, never green for a change the wrong way."""

from __future__ import annotations

from datetime import date

import expected
from fixture_warehouse import DATA_START
from streamlit.proto.Metric_pb2 import Metric

# Ten days near the start of the data: the previous ten days are only partly in it, last year not at all.
EARLY = {"period": "custom", "from": "2025-09-05", "to": "2025-09-14"}


def pp(change: float) -> str:
    points = change * 100
    return f"{points:+.2f} pp" if abs(points) < 0.1 else f"{points:+.1f} pp"


def card_parts(at, title):
    """The metric of a card and the comparisons caption that follows it."""
    metric = next(m for m in at.metric if m.label.endswith(title))
    captions = [c.value for c in at.caption if c.value.startswith("vs ")]
    line = next(c for c in captions if title_of(c, at, title))
    return metric, line


def title_of(caption, at, title):
    # Captions follow their card in order: pair them by the order of the cards.
    titles = [m.label for m in at.metric]
    captions = [c.value for c in at.caption if c.value.startswith("vs ")]
    return captions.index(caption) == next(i for i, label in enumerate(titles) if label.endswith(title))


def test_three_comparisons_with_the_partial_period_marked(warehouse, app):
    at = app(warehouse.path, **EARLY).run()
    assert not at.exception
    metric, line = card_parts(at, "Checkout conversion rate")
    parts = line.split(" · ")
    assert len(parts) == 3
    # previous 10 days: 26 Aug – 4 Sep 2025, of which only 1–4 Sep have data.
    assert parts[0].startswith("vs previous 10 days (26 Aug – 4 Sep 2025): ")
    assert parts[0].endswith(f"⚠ partial: data on {(date(2025, 9, 4) - DATA_START).days + 1} of 10 days")
    assert "⚠ previous 10 days: 4 of 10 days" in metric.proto.delta_description
    # Same dates a year earlier: nothing there, and the card says so.
    assert parts[1] == "vs same dates last year (5–14 Sep 2024): no data for that period"
    now = expected.value(warehouse, "checkout_conversion", date(2025, 9, 5), date(2025, 9, 14))
    assert parts[2] == f"vs target: {pp(now - 0.030)} from 3.0%"
    before = expected.value(warehouse, "checkout_conversion", DATA_START, date(2025, 9, 4))
    assert metric.delta == pp(now - before)


def test_no_data_last_year_falls_back_to_the_target_instead_of_vanishing(warehouse, app):
    at = app(warehouse.path, compare="year", **EARLY).run()
    assert not at.exception
    metric, line = card_parts(at, "Checkout conversion rate")
    now = expected.value(warehouse, "checkout_conversion", date(2025, 9, 5), date(2025, 9, 14))
    assert metric.delta == pp(now - 0.030)
    assert "no data for same dates last year: change vs target" in metric.proto.delta_description
    assert line.split(" · ")[0] == "vs same dates last year (5–14 Sep 2024): no data for that period"


def test_a_fall_of_an_up_kpi_is_never_green(warehouse, app):
    colour = Metric.DESCRIPTOR.fields_by_name["color"].enum_type.values_by_number
    checked = 0
    for start in range(1, 25):  # windows of 4 days in October; each falls or rises against the 4 before
        day = date(2026, 10, start)
        params = {"period": "custom", "from": day.isoformat(), "to": date(2026, 10, start + 3).isoformat()}
        at = app(warehouse.path, **params).run()
        for metric in at.metric:
            if metric.delta and metric.delta.startswith("-") and "Revenue" in metric.label:
                assert colour[metric.proto.color].name.lower() != "green", (params, metric.delta)
                checked += 1
        if checked:
            break
    assert checked, "the fixture should have a falling revenue window in October"
