"""The view's state as URL query parameters, so a shared link reproduces what its sender saw."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date

from warehouse.periods import COMPARISONS, PRESETS

GROUPINGS = {"objective": "Objective", "team": "Team"}


@dataclass(frozen=True)
class ViewState:
    """Everything that decides what the dashboard shows. None means "all" for the filters."""

    period: str = "28d"
    start: date | None = None  # custom range only
    end: date | None = None
    compare: str = "previous"
    team: str | None = None
    objective: str | None = None
    group: str = "objective"
    kpi: str | None = None  # the KPI page's KPI
    segment: str | None = None  # a global dimension filter, "channel=Paid Social" (URL `filter`)


DEFAULT = ViewState()
_CHOICES = {"period": PRESETS, "compare": COMPARISONS, "group": GROUPINGS}
_DATES = ("start", "end")
# URL names; `from` / `to` read better in a link than start / end.
_URL_NAMES = {"start": "from", "end": "to", "segment": "filter"}


def parse_query_params(params: Mapping[str, str]) -> ViewState:
    """A ViewState from query parameters; unknown or malformed values fall back to the defaults."""
    values: dict = {}
    for field in fields(ViewState):
        raw = params.get(_URL_NAMES.get(field.name, field.name))
        if raw is None or raw == "":
            continue
        if field.name in _CHOICES:
            if raw in _CHOICES[field.name]:
                values[field.name] = raw
        elif field.name in _DATES:
            try:
                values[field.name] = date.fromisoformat(raw)
            except ValueError:
                continue
        else:
            values[field.name] = raw
    state = replace(DEFAULT, **values)
    if state.period != "custom":
        state = replace(state, start=None, end=None)
    return state


def to_query_params(state: ViewState) -> dict[str, str]:
    """Query parameters for a state: every setting that is set, dates as ISO strings."""
    out: dict[str, str] = {}
    for field in fields(ViewState):
        value = getattr(state, field.name)
        if value is None:
            continue
        if field.name in _DATES and state.period != "custom":
            continue
        out[_URL_NAMES.get(field.name, field.name)] = value.isoformat() if isinstance(value, date) else value
    return out
