"""The shared controls (sidebar) and their two-way binding to the URL's query parameters.

The URL is the source of truth when it changes from outside (a shared link, a page link carrying
query parameters, the browser's back button); otherwise the widgets are, and every run writes their
state back to the URL so the address bar always reproduces the view.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import streamlit as st
from warehouse.periods import COMPARISONS, PRESETS

from dashboards.view_state import GROUPINGS, ViewState, parse_query_params, to_query_params

_WRITTEN = "_kpibridge_written_params"
UNKNOWN_KPI = "_kpibridge_unknown_kpi"
ALL = ""  # a filter's "all" option (None would show as an empty select box)


@dataclass(frozen=True)
class Choices:
    """What the controls may hold, from the serving database."""

    teams: list[str]
    objectives: list[str]
    kpi_ids: list[str]
    data_start: date
    data_end: date
    # the global filter: breakdown → its values (none for an older serving file)
    segments: dict[str, list[str]] = field(default_factory=dict)


def sync_from_url(choices: Choices) -> None:
    """Copy the URL's state into the widgets when the URL changed since this session last wrote it."""
    params = st.query_params.to_dict()
    if params == st.session_state.get(_WRITTEN):
        return
    state = parse_query_params(params)
    st.session_state["period"] = state.period
    st.session_state["compare"] = state.compare
    st.session_state["group"] = state.group
    st.session_state["team"] = state.team if state.team in choices.teams else ALL
    st.session_state["objective"] = state.objective if state.objective in choices.objectives else ALL
    if state.period == "custom":
        low, high = choices.data_start, choices.data_end
        start = _clamp(state.start or high - timedelta(days=27), low, high)
        end = _clamp(state.end or high, low, high)
        st.session_state["range"] = (min(start, end), max(start, end))
    dimension, _, value = (state.segment or "").partition("=")
    known = value in choices.segments.get(dimension, [])
    st.session_state["segment_dim"] = dimension if known else ALL
    st.session_state["segment_value"] = value if known else ALL
    if state.kpi in choices.kpi_ids:
        st.session_state["kpi"] = state.kpi
    elif state.kpi is not None:
        st.session_state[UNKNOWN_KPI] = state.kpi


def render_sidebar(choices: Choices) -> ViewState:
    """Draw the shared controls in the sidebar and return the state they describe."""
    sidebar = st.sidebar
    data_start, data_end = choices.data_start, choices.data_end
    sidebar.selectbox("Date range", list(PRESETS), format_func=PRESETS.__getitem__, key="period")
    start: date | None = None
    end: date | None = None
    if st.session_state["period"] == "custom":
        st.session_state.setdefault("range", (max(data_start, data_end - timedelta(days=27)), data_end))
        picked = sidebar.date_input("Custom range", min_value=data_start, max_value=data_end, key="range")
        # A range picker returns a tuple; while the reader is between the two clicks, it holds only a start date.
        if isinstance(picked, tuple) and picked:
            start, end = picked[0], picked[-1]
        else:
            start, end = data_start, data_end
    sidebar.selectbox("Compare with", list(COMPARISONS), format_func=COMPARISONS.__getitem__, key="compare")
    sidebar.selectbox("Team", [ALL, *choices.teams], format_func=lambda t: t or "All teams", key="team")
    sidebar.selectbox(
        "Objective", [ALL, *choices.objectives], format_func=lambda o: o or "All objectives", key="objective"
    )
    sidebar.segmented_control(
        "Group cards by", list(GROUPINGS), format_func=GROUPINGS.__getitem__, key="group"
    )
    segment = _segment_filter(sidebar, choices)
    return ViewState(
        period=st.session_state["period"],
        start=start,
        end=end,
        compare=st.session_state["compare"],
        team=st.session_state["team"] or None,
        objective=st.session_state["objective"] or None,
        group=st.session_state.get("group") or "objective",
        kpi=None,
        segment=segment,
    )


def _segment_filter(sidebar, choices: Choices) -> str | None:
    """ "Filter by" a breakdown value, for every KPI that declares that breakdown ("everything for Paid Social")."""
    if not choices.segments:
        return None
    st.session_state.setdefault("segment_dim", ALL)
    if st.session_state["segment_dim"] not in (ALL, *choices.segments):
        st.session_state["segment_dim"] = ALL
    dimension = sidebar.selectbox(
        "Filter by", [ALL, *choices.segments], format_func=lambda d: d or "No filter", key="segment_dim"
    )
    if not dimension:
        return None
    values = choices.segments[dimension]
    if st.session_state.get("segment_value") not in values:
        st.session_state["segment_value"] = values[0]
    value = sidebar.selectbox(f"{dimension} is", values, key="segment_value")
    return f"{dimension}={value}"


def drill_into(dimension: str, value: str) -> None:
    """Set the global filter to one breakdown value (a breakdown bar's "drill into")."""
    st.session_state["segment_dim"] = dimension
    st.session_state["segment_value"] = value


def segment_of(state: ViewState) -> tuple[str, str] | None:
    if not state.segment or "=" not in state.segment:
        return None
    dimension, _, value = state.segment.partition("=")
    return dimension, value


def write_to_url(state: ViewState) -> None:
    """Make the address bar reproduce `state` (only when it differs, to keep history clean)."""
    params = to_query_params(state)
    if params != st.query_params.to_dict():
        st.query_params.from_dict(params)
    st.session_state[_WRITTEN] = params


def with_kpi(state: ViewState, kpi_id: str | None) -> ViewState:
    return replace(state, kpi=kpi_id)


def take_unknown_kpi() -> str | None:
    """A KPI id the URL asked for that the warehouse does not hold (once)."""
    return st.session_state.pop(UNKNOWN_KPI, None)


def _clamp(day: date, low: date, high: date) -> date:
    return min(max(day, low), high)
