"""Periods: presets end on the last day with data; comparisons are the same length, calendar-aligned."""

from datetime import date

import pytest

from warehouse.periods import (
    add_months,
    comparison_period,
    provisional_days,
    provisional_start,
    resolve_period,
)

WED = date(2026, 10, 28)


@pytest.mark.parametrize(
    ("preset", "start", "partial"),
    [
        ("7d", date(2026, 10, 22), False),
        ("28d", date(2026, 10, 1), False),
        ("90d", date(2026, 7, 31), False),
        ("mtd", date(2026, 10, 1), True),
        ("qtd", date(2026, 10, 1), True),
    ],
)
def test_presets_end_on_the_anchor(preset, start, partial):
    period = resolve_period(preset, WED)
    assert (period.start, period.end, period.partial) == (start, WED, partial)


def test_a_month_to_date_on_the_last_day_is_a_whole_month():
    assert not resolve_period("mtd", date(2026, 9, 30)).partial
    assert not resolve_period("qtd", date(2026, 9, 30)).partial


def test_custom_range_keeps_its_dates_and_swaps_backwards_ones():
    period = resolve_period("custom", WED, date(2026, 9, 10), date(2026, 9, 1))
    assert (period.start, period.end, period.days) == (date(2026, 9, 1), date(2026, 9, 10), 10)


def test_unknown_preset_is_an_error():
    with pytest.raises(ValueError, match="unknown period preset"):
        resolve_period("fortnight", WED)


def test_previous_of_a_rolling_window_is_the_window_before():
    period = resolve_period("7d", WED)
    previous = comparison_period(period, "7d", "previous")
    assert (previous.start, previous.end) == (date(2026, 10, 15), date(2026, 10, 21))
    assert previous.start.weekday() == period.start.weekday()


def test_month_to_date_compares_with_prior_month_to_date():
    period = resolve_period("mtd", WED)
    previous = comparison_period(period, "mtd", "previous")
    assert (previous.start, previous.end, previous.partial) == (date(2026, 9, 1), date(2026, 9, 28), True)
    assert previous.label == "prior month to date"


def test_prior_month_to_date_is_clamped_to_a_shorter_month():
    period = resolve_period("mtd", date(2026, 3, 30))
    previous = comparison_period(period, "mtd", "previous")
    assert (previous.start, previous.end) == (date(2026, 2, 1), date(2026, 2, 28))


def test_a_whole_month_compares_with_the_whole_prior_month():
    period = resolve_period("mtd", date(2026, 3, 31))
    previous = comparison_period(period, "mtd", "previous")
    assert (previous.start, previous.end, previous.partial) == (date(2026, 2, 1), date(2026, 2, 28), False)


def test_quarter_to_date_compares_with_prior_quarter_to_date():
    previous = comparison_period(resolve_period("qtd", WED), "qtd", "previous")
    assert (previous.start, previous.end) == (date(2026, 7, 1), date(2026, 7, 28))


def test_same_period_last_year_keeps_weekdays_for_rolling_windows():
    period = resolve_period("28d", WED)
    last_year = comparison_period(period, "28d", "year")
    assert last_year.days == 28
    assert last_year.start.weekday() == period.start.weekday()
    assert last_year.end == date(2025, 10, 29)


def test_same_month_to_date_last_year():
    last_year = comparison_period(resolve_period("mtd", WED), "mtd", "year")
    assert (last_year.start, last_year.end) == (date(2025, 10, 1), date(2025, 10, 28))


def test_no_comparison():
    assert comparison_period(resolve_period("7d", WED), "7d", "none") is None


def test_add_months_clamps_the_day():
    assert add_months(date(2024, 3, 31), -1) == date(2024, 2, 29)
    assert add_months(date(2026, 1, 15), -12) == date(2025, 1, 15)


def test_last_three_days_are_provisional():
    assert provisional_start(WED) == date(2026, 10, 26)
    assert provisional_days(resolve_period("7d", WED), WED) == 3
    assert provisional_days(resolve_period("custom", WED, date(2026, 9, 1), date(2026, 9, 30)), WED) == 0
