"""Pacing on the KPI page under AppTest: the current period's value and target so far, the projection.

Expected numbers are worked out here from the fixture's rows (expected.py), not by dashboards/ code.
"""

from __future__ import annotations

from datetime import date

import expected
from fixture_warehouse import DATA_END
from test_dashboard_kpi_page import chart_data, open_kpi_page


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_monthly_revenue_pacing_so_far_target_so_far_and_linear_projection(warehouse, app):
    # revenue: €60,000 a month (a `sum` KPI with a monthly grain); data to Wed 28 Oct 2026.
    at = open_kpi_page(app, warehouse, "revenue")
    month_start, days_gone, days_in_month = date(2026, 10, 1), 28, 31
    so_far = expected.value(warehouse, "revenue", month_start, DATA_END)
    shown = metrics(at)
    assert shown["Value so far"] == expected.text(warehouse, "revenue", so_far)
    assert shown["Target so far"] == expected.text(warehouse, "revenue", 60000 * days_gone / days_in_month)
    assert shown["Projected at period end"] == expected.text(warehouse, "revenue", so_far / days_gone * days_in_month)
    assert shown["Target for the month"] == "€60,000"
    assert any(h.value.startswith("Pacing: this month (1–31 Oct 2026)") for h in at.subheader)
    caption = next(c.value for c in at.caption if c.value.startswith("Projection (linear)"))
    assert "the pace so far holds" in caption
    assert f"{so_far / 60000:.0%} of the month's target reached after 28 of 31 days" in caption

    # The cumulative line: actual to 28 Oct, the target pace to 31 Oct, the projection after today.
    chart = next(c for c in at.get("vega_lite_chart") if "Target pace" in str(chart_data(c)))
    rows = chart_data(chart)
    actual = {r["date"]: r["value"] for r in rows if r["series"] == "So far"}
    target = {r["date"]: r["value"] for r in rows if r["series"] == "Target pace"}
    assert len(actual) == days_gone and len(target) == days_in_month
    assert abs(max(actual.values()) - so_far) < 1e-6
    assert abs(max(target.values()) - 60000) < 1e-6
    daily = [row["value"] for row in expected.totals(warehouse, "revenue", month_start, month_start)]
    assert abs(min(actual.values()) - daily[0]) < 1e-6  # 1 Oct alone


def test_weekly_rate_pacing_keeps_the_rate(warehouse, app):
    # bounce_rate: a ratio with a weekly grain, target 40 %; the week is Mon 26 Oct – Sun 1 Nov.
    at = open_kpi_page(app, warehouse, "bounce_rate")
    rows = expected.totals(warehouse, "bounce_rate", date(2026, 10, 26), DATA_END)
    rate = sum(r["numerator"] for r in rows) / sum(r["denominator"] for r in rows)
    shown = metrics(at)
    assert shown["Value so far"] == expected.text(warehouse, "bounce_rate", rate)
    assert shown["Target so far"] == "40.0%"
    assert shown["Projected at period end"] == expected.text(warehouse, "bounce_rate", rate)
    assert any(h.value.startswith("Pacing: this week (26 Oct – 1 Nov 2026)") for h in at.subheader)


def test_a_daily_kpi_has_no_pacing(warehouse, app):
    at = open_kpi_page(app, warehouse, "checkout_conversion")
    assert "Value so far" not in metrics(at)
    assert not any(h.value.startswith("Pacing") for h in at.subheader)
