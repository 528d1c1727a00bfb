"""What the entry script resolved for the page it runs: database, view, periods."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from warehouse.periods import Period

from dashboards.data import WarehouseStatus
from dashboards.view_state import ViewState

_KEY = "_kpibridge_context"


@dataclass(frozen=True)
class PageContext:
    path: Path
    warehouse: WarehouseStatus
    view: ViewState
    period: Period
    comparison: Period | None


def publish(context: PageContext) -> None:
    st.session_state[_KEY] = context


def current() -> PageContext:
    """The context of this run; the entry script publishes it before running the page."""
    return st.session_state[_KEY]
