"""dashboards.pacing on hand-made daily rows: both projection methods, counts and rates."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from dashboards.pacing import calendar_period, pacing, pacing_grain


def days(start: date, values: list[float], denominators: list[float] | None = None) -> pd.DataFrame:
    dates = [start + timedelta(days=i) for i in range(len(values))]
    dens = denominators or [None] * len(values)
    return pd.DataFrame({"date": dates, "value": values,
                         "numerator": [v * d if d else v for v, d in zip(values, dens, strict=True)],
                         "denominator": dens})


def test_last_period_projection_adds_the_same_days_of_the_previous_month():
    # September: 30 days of 10; October to the 10th: 10 days of 20. Target 620 a month.
    rows = pd.concat([days(date(2026, 9, 1), [10.0] * 30), days(date(2026, 10, 1), [20.0] * 10)])
    p = pacing(rows, [(date(2026, 1, 1), 620.0)], "sum", "month", "last_period", date(2026, 10, 10))
    assert p.value == 200
    assert p.target_so_far == pytest.approx(620 * 10 / 31)
    assert p.projection == 200 + 10 * 20  # 11–30 Sep: 20 days of 10 (September has no 31st)
    linear = pacing(rows, [(date(2026, 1, 1), 620.0)], "sum", "month", "linear", date(2026, 10, 10))
    assert linear.projection == pytest.approx(200 / 10 * 31)
    projected = p.line[p.line["kind"] == "projection"]
    assert projected["value"].iloc[-1] == pytest.approx(p.projection)


def test_a_rate_projects_with_the_previous_periods_numerators_and_denominators():
    # Last week 10 % of 100 a day; this week (Mon–Wed) 20 % of 50 a day.
    rows = pd.concat([days(date(2026, 10, 19), [0.1] * 7, [100.0] * 7),
                      days(date(2026, 10, 26), [0.2] * 3, [50.0] * 3)])
    p = pacing(rows, [(date(2026, 1, 1), 0.15)], "ratio", "week", "last_period", date(2026, 10, 28))
    assert p.value == pytest.approx(0.2)
    assert p.target_so_far == 0.15 and p.target == 0.15
    assert p.projection == pytest.approx((3 * 10 + 4 * 10) / (3 * 50 + 4 * 100))


def test_periods_and_grains():
    assert calendar_period(date(2026, 10, 28), "week").describe() == "26 Oct – 1 Nov 2026"
    assert calendar_period(date(2026, 11, 5), "quarter").describe() == "1 Oct – 31 Dec 2026"
    assert pacing_grain("quarter", "day") == "quarter"
    assert pacing_grain(None, "month") == "month"
    assert pacing_grain("day", "month") is None
    assert pacing_grain(None, "day") is None
