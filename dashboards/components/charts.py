"""Altair charts for the KPI page: the trend against its target, and one breakdown's top values."""

from __future__ import annotations

from datetime import date
from typing import Literal

import altair as alt
import pandas as pd

from dashboards.formatting import axis_format

# a bucket grain → its label format and the time interval Vega-Lite puts one tick per
_BUCKET_AXES: dict[str, tuple[str, Literal["week", "month"]]] = {
    "month": ("%b %Y", "month"), "week": ("%-d %b", "week"),
}
VALUE_COLOUR = "#1f6feb"
TARGET_COLOUR = "#2da44e"
COMPARISON_COLOUR = "#8c959f"
CHANGE_COLOUR = "#8250df"


def trend_chart(
    series: pd.DataFrame,
    fmt: str | None,
    provisional_from: date | None = None,
    changes: list[date] | None = None,
    grain: str = "day",
) -> alt.LayerChart:
    """Values per day, week or month (plotted at the bucket's first day) against the target line.

    `series` has columns date, value, target and optionally comparison (the comparison period's
    values, laid over the same days). Provisional days are shaded; definition changes are rules.
    """
    frame = series.assign(date=pd.to_datetime(series["date"]))
    y_format = axis_format(fmt)
    lines = {"value": "This period", "target": "Target", "comparison": "Comparison period"}
    long = frame.melt("date", [c for c in lines if c in frame], "series", "y").dropna(subset=["y"])
    long["series"] = long["series"].map(lines)
    colours = alt.Scale(domain=list(lines.values()), range=[VALUE_COLOUR, TARGET_COLOUR, COMPARISON_COLOUR])
    base = alt.Chart(long).encode(
        x=alt.X("date:T", title=None, axis=_date_axis(grain)),
        # Not from zero: a rate moving between 2.8% and 3.4% must not look flat.
        y=alt.Y("y:Q", title=None, axis=alt.Axis(format=y_format), scale=alt.Scale(zero=False)),
        color=alt.Color(
            "series:N", scale=colours, legend=alt.Legend(orient="top", title=None, symbolType="stroke")
        ),
        strokeDash=alt.StrokeDash(
            "series:N",
            scale=alt.Scale(domain=list(lines.values()), range=[[1, 0], [6, 3], [2, 2]]),
            legend=None,
        ),
        tooltip=[
            alt.Tooltip("date:T", title="Date"),
            alt.Tooltip("series:N", title="Series"),
            alt.Tooltip("y:Q", title="Value", format=y_format),
        ],
    )
    layers: list[alt.Chart] = []
    if provisional_from is not None and len(frame):
        band = pd.DataFrame(
            {
                "start": [pd.Timestamp(provisional_from)],
                "end": [frame["date"].max()],
                "label": ["provisional"],
            }
        )
        layers.append(
            alt.Chart(band)
            .mark_rect(opacity=0.12, color="#9a6700")
            .encode(x="start:T", x2="end:T", tooltip=alt.Tooltip("label:N", title="Last days"))
        )
    # Daily targets hold until the next change (a step); weekly and monthly ones are one per point.
    target_line = base.mark_line(interpolate="step-after") if grain == "day" else base.mark_line(point=True)
    layers.append(target_line.transform_filter(alt.datum.series == "Target"))
    # Points only when there are few buckets (weeks, months): daily points would be clutter.
    layers.append(base.mark_line(point=len(frame) <= 16).transform_filter(alt.datum.series != "Target"))
    if changes:
        rules = pd.DataFrame({"date": pd.to_datetime(changes), "label": "definition changed"})
        layers.append(
            alt.Chart(rules)
            .mark_rule(color=CHANGE_COLOUR, strokeDash=[4, 2], size=2)
            .encode(x="date:T", tooltip=[alt.Tooltip("date:T", title="Definition changed")])
        )
    return alt.LayerChart(layer=layers).properties(height=320)


def _date_axis(grain: str) -> alt.Axis:
    """One tick per bucket for weeks and months, so labels never repeat ("Jul 2026" four times)."""
    if grain in _BUCKET_AXES:
        label, interval = _BUCKET_AXES[grain]
        return alt.Axis(format=label, tickCount=interval, labelOverlap=True)
    return alt.Axis(format="%-d %b", labelOverlap=True)


def breakdown_chart(rows: pd.DataFrame, fmt: str | None, dimension: str) -> alt.LayerChart:
    """Horizontal bars of a breakdown's top values (then "Other", "invalid values"), in the order given,
    each labelled with its value and volume (`rows` from breakdowns.breakdown_bars)."""
    order = list(rows["breakdown_value"])
    kinds = alt.Scale(domain=["value", "other", "invalid"], range=[VALUE_COLOUR, COMPARISON_COLOUR, "#cf222e"])
    base = alt.Chart(rows).encode(
        y=alt.Y("breakdown_value:N", sort=order, title=None, axis=alt.Axis(labelLimit=180)),
        tooltip=[
            alt.Tooltip("breakdown_value:N", title=dimension),
            alt.Tooltip("value:Q", title="Value", format=axis_format(fmt)),
            alt.Tooltip("size:Q", title="Volume", format=",.0f"),
            alt.Tooltip("share:Q", title="Share of volume", format=".0%"),
        ],
    )
    bars = base.mark_bar().encode(
        x=alt.X("value:Q", title=None, axis=alt.Axis(format=axis_format(fmt))),
        color=alt.Color("kind:N", scale=kinds, legend=None),
    )
    labels = base.mark_text(align="left", dx=4, color="#57606a").encode(x="value:Q", text="label:N")
    return alt.LayerChart(layer=[bars, labels]).properties(height=alt.Step(26))
