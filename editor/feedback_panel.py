"""Beside the form: what the KPI means in plain words, what IT must do for it, and its recent numbers."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from .checking import Checked
from .feedback import Comparison, meaning_of
from .session import Candidate
from .ui_text import IssueBoard, plain
from .warehouse_reads import Trend
from .workspace import Workspace


def comparison(disk: Checked, after: Checked) -> Comparison:
    return Comparison(disk.validated.catalog, after.validated.catalog, not after.validated.report.errors)


def feedback_panel(ws: Workspace, disk: Checked, after: Checked, cand: Candidate, board: IssueBoard,
                   trend_of) -> None:
    kpi_id = str(st.session_state.get("k.kpi", "")).strip()
    errors = len([i for i in board.issues if i.level.value == "error"])
    warnings = len(board.issues) - errors
    if errors:
        st.error(f"{errors} error{'s' if errors != 1 else ''} and {warnings} warning(s) in this KPI, "
                 "each shown below its field (the same as `kpi validate`).", icon=":material/error:")
    elif warnings:
        st.warning(f"No errors, {warnings} warning(s): see below the fields.", icon=":material/warning:")
    elif cand.path is not None:
        st.success("`kpi validate` finds no problem in this KPI.", icon=":material/check_circle:")
    others = len(after.validated.report.errors) - errors
    if others > 0:
        st.caption(f"{others} error(s) in other files of the KPI folder (see the list on the left).")
    comp = comparison(disk, after)
    meaning = meaning_of(kpi_id, comp)
    st.subheader("What it means")
    if meaning.note:
        st.info(plain(meaning.note))
        return
    st.markdown(plain(meaning.plain_words))
    st.markdown("**Events it needs:** " + plain(", ".join(meaning.events) or "none (from other KPIs)"))
    if meaning.new_for_it:
        st.warning("New for IT to implement: " + plain(", ".join(meaning.new_for_it)), icon=":material/build:")
    else:
        st.caption("Nothing new for IT: the spec already asks for all of it.")
    if meaning.custom_definitions_added:
        st.warning("GA4 custom definitions to register: " + plain(", ".join(meaning.custom_definitions_added)),
                   icon=":material/settings:")
    st.caption(plain("GA4 quota after saving — " + "; ".join(meaning.quotas)))
    st.subheader("Last 28 days")
    trend = trend_of(comp, kpi_id)
    if isinstance(trend, str):
        st.caption(plain(trend))
        return
    _trend(trend, st.session_state.get("k.format", "number"))


def _trend(trend: Trend, fmt: str) -> None:
    value = "—" if trend.value is None else (f"{trend.value:.2%}" if fmt == "percent" else f"{trend.value:,.2f}")
    how = {"sum": "daily values added up", "ratio": "numerator over denominator for the period",
           "mean": "average of the daily values"}[trend.aggregation]
    st.metric(f"{trend.start:%Y-%m-%d} to {trend.end:%Y-%m-%d}", value)
    st.caption(f"The last 28 days of loaded data ({how}), by the SQL `kpi refresh` runs, as the form says now.")
    frame = pd.DataFrame(trend.daily, columns=["date", "value"])
    chart = alt.Chart(frame).mark_line().encode(
        x=alt.X("date:T", title=None), y=alt.Y("value:Q", title=None)).properties(height=120)
    st.altair_chart(chart, width="stretch")
