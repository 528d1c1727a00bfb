"""Period values per aggregation, period targets, top-N breakdowns."""

from datetime import date, timedelta

import pandas as pd
import pytest

from dashboards.measures import (
    aggregate,
    grain_start,
    period_goal,
    shift_rows,
    target_in_force,
    trend,
)
from dashboards.period_rows import period_rows
from warehouse.periods import Period

ROWS = pd.DataFrame(
    {"value": [0.1, 0.5, 0.2], "numerator": [10.0, 5.0, 20.0], "denominator": [100.0, 10.0, 100.0]}
)


def test_sum_adds_daily_values():
    assert aggregate(ROWS, "sum") == pytest.approx(0.8)


def test_ratio_divides_the_sums_not_averages_the_ratios():
    assert aggregate(ROWS, "ratio") == pytest.approx(35 / 210)


def test_mean_averages_daily_values():
    assert aggregate(ROWS, "mean") == pytest.approx(0.8 / 3)


def test_no_rows_is_no_value():
    assert aggregate(ROWS.iloc[0:0], "sum") is None
    assert aggregate(ROWS.assign(denominator=0.0), "ratio") is None


def test_unknown_aggregation_is_an_error():
    with pytest.raises(ValueError, match="aggregation"):
        aggregate(ROWS, "median")


def test_period_rows_give_each_kpi_its_aggregate_to_the_last_bit():
    # Values that pairwise and naive summation round differently, gaps, a KPI without denominators, rows
    # not in date order; a period that leaves some rows out.
    days = [date(2026, 10, 1) + timedelta(days=(i * 5) % 17) for i in range(280)]
    rows = pd.DataFrame(
        {
            "kpi_id": ["a", "b", "a", "c", "a", "b", "c"] * 40,
            "date": days,
            "value": [0.1, 1e16, 0.7, None, 3.3, 1.0, 2.5] * 40,
            "numerator": [1.0, None, 3.0, 4.0, 0.1, 2.0, 0.2] * 40,
            "denominator": [10.0, None, 30.0, None, 0.3, None, 5.0] * 40,
        }
    )
    whole, part = Period(date(2026, 10, 1), date(2026, 10, 17), "x"), Period(date(2026, 10, 3), date(2026, 10, 9), "y")
    for period, reduced in zip([whole, part], period_rows(rows, [whole, part]), strict=True):
        inside = rows[(rows["date"] >= period.start) & (rows["date"] <= period.end)]
        assert sorted(reduced) == ["a", "b", "c"]
        for kpi, group in inside.groupby("kpi_id"):
            for aggregation in ("sum", "ratio", "mean"):
                assert reduced[kpi].sums.value(aggregation) == aggregate(group, aggregation)
            assert reduced[kpi].days == group["date"].nunique()
        assert reduced["b"].sums.value("ratio") is None  # no denominator at all: no value, not zero
    first = period_rows(rows, [whole])[0]["a"]
    ordered = rows[rows["kpi_id"] == "a"].sort_values("date", kind="stable")["value"].dropna()
    assert first.values == tuple(ordered)  # the sparkline, in date order


TARGETS = [(date(2026, 1, 1), 100.0), (date(2026, 10, 15), 200.0)]


def test_target_in_force_is_the_latest_started():
    assert target_in_force(TARGETS, date(2025, 12, 31)) is None
    assert target_in_force(TARGETS, date(2026, 10, 14)) == 100.0
    assert target_in_force(TARGETS, date(2026, 10, 15)) == 200.0


def test_a_rate_target_is_the_one_in_force_at_the_period_end():
    goal = period_goal(TARGETS, Period(date(2026, 10, 1), date(2026, 10, 20), "x"), "ratio", "month", 90, 80)
    assert (goal.target, goal.warn, goal.critical) == (200.0, 90, 80)


def test_a_sum_target_is_phased_by_day_over_its_grain():
    whole_month = Period(date(2026, 9, 1), date(2026, 9, 30), "x")
    assert period_goal(TARGETS, whole_month, "sum", "month").target == pytest.approx(100.0)
    week = Period(date(2026, 9, 1), date(2026, 9, 7), "x")
    goal = period_goal(TARGETS, week, "sum", "month", warn=60.0, critical=30.0)
    assert goal.target == pytest.approx(100 * 7 / 30)
    assert (goal.warn, goal.critical) == (pytest.approx(14.0), pytest.approx(7.0))
    # Target changes mid-period: 14 days at 100/31 and 6 at 200/31.
    straddling = Period(date(2026, 10, 1), date(2026, 10, 20), "x")
    assert period_goal(TARGETS, straddling, "sum", "month").target == pytest.approx((14 * 100 + 6 * 200) / 31)


def test_a_daily_sum_target_multiplies_by_days():
    week = Period(date(2026, 9, 1), date(2026, 9, 7), "x")
    assert period_goal(TARGETS, week, "sum", "day").target == pytest.approx(700.0)


def _daily(start, values):
    return pd.DataFrame(
        [
            {"date": start + timedelta(days=i), "value": v, "numerator": v, "denominator": None}
            for i, v in enumerate(values)
        ]
    )


def test_trend_by_day_carries_the_target_in_force():
    rows = _daily(date(2026, 10, 13), [1.0, 2.0, 3.0])
    series = trend(rows, Period(date(2026, 10, 13), date(2026, 10, 15), "x"), "ratio", "day", TARGETS)
    assert list(series["target"]) == [100.0, 100.0, 200.0]


def test_trend_by_week_cuts_edge_weeks_to_the_period_and_phases_their_target():
    rows = _daily(date(2026, 9, 3), [1.0] * 14)  # Thursday 3 Sep to Wednesday 16 Sep
    period = Period(date(2026, 9, 3), date(2026, 9, 16), "x")
    series = trend(rows, period, "sum", "week", TARGETS)
    assert list(series["date"]) == [date(2026, 9, 3), date(2026, 9, 7), date(2026, 9, 14)]
    assert list(series["days"]) == [4, 7, 3]
    assert list(series["value"]) == [4.0, 7.0, 3.0]
    assert list(series["target"]) == pytest.approx([100 * 4 / 7, 100.0, 100 * 3 / 7])


def test_trend_by_month_and_missing_days():
    rows = _daily(date(2026, 9, 29), [5.0, 5.0])
    series = trend(rows, Period(date(2026, 9, 29), date(2026, 10, 2), "x"), "sum", "month", TARGETS)
    assert series["value"].iloc[0] == 10.0
    assert pd.isna(series["value"].iloc[1])  # no rows in October: no value, not zero
    assert grain_start(date(2026, 9, 17), "week") == date(2026, 9, 14)


def test_shift_rows_lays_a_comparison_over_the_period():
    rows = _daily(date(2026, 9, 1), [1.0])
    assert list(shift_rows(rows, 30)["date"]) == [date(2026, 10, 1)]
