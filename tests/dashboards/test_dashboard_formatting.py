"""Values and deltas in each KPI format."""

import pytest

from dashboards.formatting import format_delta, format_duration, format_value


@pytest.mark.parametrize(
    ("value", "fmt", "currency", "text"),
    [
        (0.031, "percent", None, "3.1%"),
        (0.5, "percent", None, "50.0%"),
        (12345, "currency", "EUR", "€12,345"),
        (12345.6, "currency", "CHF", "CHF 12,346"),
        (45.2, "currency", "USD", "$45.20"),
        (-1200, "currency", "GBP", "-£1,200"),
        (2_500_000, "currency", "EUR", "€2.50M"),
        (12345, "number", None, "12,345"),
        (12.5, "number", None, "12.5"),
        (3.14159, "number", None, "3.14"),
        (83, "duration", None, "1m 23s"),
        (None, "number", None, "—"),
        (float("nan"), "percent", None, "—"),
    ],
)
def test_format_value(value, fmt, currency, text):
    assert format_value(value, fmt, currency) == text


@pytest.mark.parametrize(("seconds", "text"), [(42.5, "42.5s"), (60, "1m 00s"), (3725, "1h 02m"), (9, "9s")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_percent_changes_in_points_others_relative():
    assert format_delta(0.031, 0.027, "percent") == "+0.4 pp"
    assert format_delta(0.0300, 0.0303, "percent") == "-0.03 pp"
    assert format_delta(120, 100, "number") == "+20.0%"
    assert format_delta(80, 100, "currency") == "-20.0%"


def test_no_delta_without_a_base():
    assert format_delta(5, 0, "number") is None
    assert format_delta(5, None, "number") is None
    assert format_delta(None, 5, "number") is None
