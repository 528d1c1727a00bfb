"""The KPI page's views beside the bars: drilling into a segment, a breakdown's trend, the numbers as a
table with a CSV download."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st
from warehouse.periods import Period

from dashboards.breakdowns import breakdown_bars
from dashboards.components.charts import _date_axis
from dashboards.components.controls import ALL, drill_into
from dashboards.formatting import axis_format
from dashboards.measures import trend

TREND_LINES = 5


def drill_select(dimension: str, bars: pd.DataFrame, segment: tuple[str, str] | None) -> None:
    """ "Drill into" one of the shown values: sets the dashboard-wide filter to that segment."""
    values = [name for name, kind in zip(bars["breakdown_value"], bars["kind"], strict=True) if kind == "value"]
    if not values:
        return
    key = f"drill_{dimension}"

    def apply() -> None:
        picked = st.session_state.get(key)
        if picked:
            drill_into(dimension, picked)
        st.session_state[key] = ALL

    st.selectbox(
        "Drill into",
        [ALL, *values],
        format_func=lambda v: v or "Pick a value to see everything for it",
        key=key,
        on_change=apply,
        label_visibility="collapsed",
    )


def breakdown_trend(rows: pd.DataFrame, declared: list[str], labels: dict[str, str], span: Period, kpi,
                    grain: str) -> None:
    """One breakdown's top values over time, at the KPI's grain (invalid values grouped, never named)."""
    st.subheader("Breakdown over time")
    dimension = st.selectbox(
        "Breakdown", declared, format_func=lambda d: labels.get(d) or d, key="trend_breakdown"
    )
    of_dimension = rows[rows["breakdown"] == dimension]
    bars = breakdown_bars(of_dimension, kpi["aggregation"], kpi["format"], kpi["currency"], TREND_LINES)
    if bars.frame.empty:
        st.caption("No values in this range.")
        return
    shown = [name for name, kind in zip(bars.frame["breakdown_value"], bars.frame["kind"], strict=True)
             if kind == "value"]
    groups: dict[str, pd.DataFrame] = {name: of_dimension[of_dimension["breakdown_value"] == name] for name in shown}
    invalid = of_dimension["invalid"].astype(bool) if "invalid" in of_dimension else False
    rest = of_dimension[~of_dimension["breakdown_value"].isin(shown) & ~invalid]
    if len(rest):
        groups["Other"] = rest
    lines = []
    for name, group in groups.items():
        series = trend(group, span, kpi["aggregation"], grain, [])
        lines.append(series.assign(series=name)[["date", "series", "value"]])
    frame = pd.concat(lines).dropna(subset=["value"])
    frame["date"] = pd.to_datetime(frame["date"])
    chart = (
        alt.Chart(frame)
        .mark_line(point=frame["date"].nunique() <= 16)
        .encode(
            x=alt.X("date:T", title=None, axis=_date_axis(grain)),
            y=alt.Y("value:Q", title=None, axis=alt.Axis(format=axis_format(kpi["format"])),
                    scale=alt.Scale(zero=False)),
            color=alt.Color("series:N", sort=list(groups), legend=alt.Legend(orient="top", title=None)),
            tooltip=[alt.Tooltip("date:T", title="Date"), alt.Tooltip("series:N", title=dimension),
                     alt.Tooltip("value:Q", title="Value", format=axis_format(kpi["format"]))],
        )
        .properties(height=260)
    )
    st.altair_chart(chart, width="stretch")
    st.caption(f"The top {len(shown)} values of {labels.get(dimension) or dimension} by volume, per {grain}"
               + (", the rest as Other." if "Other" in groups else "."))


def numbers_table(series: pd.DataFrame, kpi, comparison: Period | None) -> None:
    """The trend's numbers as a table, and the same as a CSV download."""
    st.subheader("Numbers")
    table = pd.DataFrame({"date": series["date"], "value": series["value"], "target": series["target"],
                          "days": series["days"]})
    if "comparison" in series and comparison is not None:
        table.insert(2, "comparison", series["comparison"])
    st.dataframe(table, hide_index=True, width="stretch")
    start, end = series["date"].iloc[0], series["date"].iloc[-1]
    st.download_button(
        "Download CSV",
        table.to_csv(index=False).encode("utf-8"),
        file_name=f"{kpi['kpi_id']}_{start}_{end}.csv",
        mime="text/csv",
        icon=":material/download:",
    )
    st.caption("One row per " + (kpi["time_grain"] or "day") + ": the value, "
               + ("the comparison period's value laid over the same days, " if "comparison" in table else "")
               + "the target for that row, and how many days it covers.")
