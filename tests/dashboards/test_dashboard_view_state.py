"""URL query parameters round-trip the view."""

from datetime import date

from dashboards.view_state import DEFAULT, ViewState, parse_query_params, to_query_params


def test_round_trip():
    state = ViewState(
        "custom", date(2026, 9, 1), date(2026, 9, 30), "year", "Growth", None, "team", "revenue"
    )
    params = to_query_params(state)
    assert params == {
        "period": "custom",
        "from": "2026-09-01",
        "to": "2026-09-30",
        "compare": "year",
        "team": "Growth",
        "group": "team",
        "kpi": "revenue",
    }
    assert parse_query_params(params) == state


def test_bad_values_fall_back_to_defaults():
    state = parse_query_params({"period": "fortnight", "compare": "x", "from": "yesterday", "group": "?"})
    assert state == DEFAULT


def test_dates_only_matter_for_a_custom_range():
    state = parse_query_params({"period": "7d", "from": "2026-09-01"})
    assert state.start is None and "from" not in to_query_params(state)
