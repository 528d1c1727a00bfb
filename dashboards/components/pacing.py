"""The KPI page's pacing section: value so far, target so far, projection, and the cumulative line."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboards.components.charts import COMPARISON_COLOUR, TARGET_COLOUR, VALUE_COLOUR
from dashboards.formatting import axis_format, format_value
from dashboards.pacing import Pacing

KINDS = {"actual": "So far", "target": "Target pace", "projection": "Projection"}


def render_pacing(p: Pacing, fmt: str | None, currency: str | None, aggregation: str) -> None:
    st.subheader(f"Pacing: {p.period.label} ({p.period.describe()})")
    left, middle, right, last = st.columns(4)
    left.metric("Value so far", format_value(p.value, fmt, currency),
                help=f"{p.elapsed.days} of the {p.period.days} days ({p.elapsed.describe()}).")
    middle.metric("Target so far", format_value(p.target_so_far, fmt, currency),
                  help="The period's target for the days gone (spread evenly by day)." if aggregation == "sum"
                  else "A rate's target holds for any part of the period.")
    right.metric("Projected at period end", format_value(p.projection, fmt, currency),
                 help=f"Projection: {p.method_words}.")
    last.metric(f"Target for the {p.per}", format_value(p.target, fmt, currency))
    cumulative = "cumulative, " if aggregation == "sum" else "the rate to date, "
    share = ""
    if aggregation == "sum" and p.target and p.value is not None:
        share = f" {p.value / p.target:.0%} of the {p.per}'s target reached after {p.elapsed.days} of {p.period.days} days."
    missing = " No projection: the previous period has no data for the days ahead." if p.projection is None else ""
    st.caption(f"Projection ({p.method}): {p.method_words}. Lines: {cumulative}against the target pace."
               f"{share}{missing}")
    if len(p.line):
        st.altair_chart(pacing_chart(p.line, fmt), width="stretch")


def pacing_chart(line: pd.DataFrame, fmt: str | None) -> alt.Chart:
    frame = line.assign(date=pd.to_datetime(line["date"]), series=line["kind"].map(KINDS))
    colours = alt.Scale(domain=list(KINDS.values()), range=[VALUE_COLOUR, TARGET_COLOUR, COMPARISON_COLOUR])
    dashes = alt.Scale(domain=list(KINDS.values()), range=[[1, 0], [6, 4], [2, 2]])
    return alt.Chart(frame).mark_line().encode(
        x=alt.X("date:T", title=None),
        y=alt.Y("value:Q", title=None, axis=alt.Axis(format=axis_format(fmt))),
        color=alt.Color("series:N", scale=colours, title=None, legend=alt.Legend(orient="bottom")),
        strokeDash=alt.StrokeDash("series:N", scale=dashes, legend=None),
        tooltip=[alt.Tooltip("date:T", title="Day"), alt.Tooltip("series:N", title=""),
                 alt.Tooltip("value:Q", title="Value", format=axis_format(fmt))],
    )
