"""KPI page: one KPI's trend against its target, its declared breakdowns, definition and events."""

from __future__ import annotations

import difflib
from datetime import timedelta

import pandas as pd
import streamlit as st

from dashboards import data
from dashboards.components import context
from dashboards.components.charts import breakdown_chart, trend_chart
from dashboards.components.controls import take_unknown_kpi
from dashboards.components.kpi_card import render_card
from dashboards.estimates import api_note_words, caveats_of, describe_caveats, estimate_note, source_note
from dashboards.formatting import format_value
from dashboards.measures import grain_days, grain_start, shift_rows, top_n_with_other, trend
from dashboards.periods import Period, provisional_start
from dashboards.scorecard import (
    active_definitions,
    build_cards,
    event_healths,
    exact_lookup,
    missing_exact_note,
)

TOP_N = 5

ctx = context.current()
period, comparison, warehouse = ctx.period, ctx.comparison, ctx.warehouse
everything = data.kpi_definitions(ctx.path)
active_ids = list(active_definitions(everything)["kpi_id"])
ids = active_ids + [kpi for kpi in everything["kpi_id"] if kpi not in active_ids]
titles = dict(zip(everything["kpi_id"], everything["title"].fillna(everything["kpi_id"]), strict=True))

unknown = take_unknown_kpi()
if unknown:
    close = difflib.get_close_matches(unknown, ids, n=1)
    hint = f" Did you mean `{close[0]}`?" if close else ""
    st.warning(f"The link asks for KPI `{unknown}`, which the warehouse does not hold.{hint}")

kpi_id = st.selectbox("KPI", ids, format_func=lambda k: titles[k], key="kpi")
kpi = everything[everything["kpi_id"] == kpi_id].iloc[0]

st.title(titles[kpi_id])
who = [f"Objective: **{kpi['objective'] or '—'}**", f"Team: **{kpi['team'] or '—'}**"]
who.append(f"Owner: **{kpi['owner'] or '—'}**")
if str(kpi["status"] or "active").lower() != "active":
    who.append(f"Status: **{kpi['status']}**")
st.markdown(" · ".join(who))

# The trend shows whole weeks or months from the one holding the period's first day (only the last
# may stop short, "to date"), so read from there, and as far before the comparison period.
grain = kpi["time_grain"] or "day"
span = Period(grain_start(period.start, grain), period.end, "trend")
lead = (period.start - span.start).days
first_day = min(span.start, comparison.start - timedelta(days=lead)) if comparison else span.start
history = data.daily_totals(ctx.path, first_day, period.end, warehouse.tables)
history = history[history["kpi_id"] == kpi_id]
targets = data.kpi_targets(ctx.path)
targets = targets[targets["kpi_id"] == kpi_id]
health = data.event_health(ctx.path, period.start, period.end, warehouse.tables)
exact = data.period_totals(ctx.path, warehouse.tables)
exact = exact[exact["kpi_id"] == kpi_id]
distinct = bool(kpi.get("distinct_units")) if pd.notna(kpi.get("distinct_units")) else False
card = build_cards(
    everything[everything["kpi_id"] == kpi_id],
    targets,
    history,
    event_healths(health),
    period,
    comparison,
    warehouse.data_end,
    exact,
)[0]

# The days behind the card: one source a day (the export wins), GA4's caveats on Data API days.
period_rows = history[(history["date"] >= period.start) & (history["date"] <= period.end)]
export_only = api_note_words(kpi["api_note"])
left, right = st.columns([1, 2])
with left:
    render_card(card)
    for note in (estimate_note(period_rows), source_note(period_rows)):
        if note:
            st.caption(note)
with right:
    st.markdown(f"**In plain words.** {kpi['plain_words'] or kpi['description'] or 'No description.'}")
    if kpi["description"] and kpi["plain_words"]:
        st.caption(kpi["description"])
    if export_only:
        st.caption(export_only)

# Trend at the KPI's time grain, against the time-phased target line.
phasing = list(zip(targets["valid_from"], targets["value"], strict=True))
series = trend(history, span, kpi["aggregation"], grain, phasing)
if comparison is not None:
    offset = (period.start - comparison.start).days
    earlier = history[
        (history["date"] >= comparison.start - timedelta(days=lead)) & (history["date"] <= comparison.end)
    ]
    series["comparison"] = trend(shift_rows(earlier, offset), span, kpi["aggregation"], grain, phasing)[
        "value"
    ]
if distinct and grain != "day":
    # Distinct users or sessions per week / month: the stored exact values, never the sum of the days.
    values = exact_lookup(exact)

    def exact_series(shift: int) -> list[float | None]:
        return [
            values.get((kpi_id, start - timedelta(days=shift), start + timedelta(days=days - 1 - shift)))
            for start, days in zip(series["date"], series["days"], strict=True)
        ]

    series["value"] = exact_series(0)
    if comparison is not None:
        series["comparison"] = exact_series((period.start - comparison.start).days)
changes = data.definition_changes(ctx.path, kpi_id, warehouse.tables)
# The first row records the definition the KPI started with; every later row is a change.
changed = list(changes["effective_from"])[1:]
in_period = [day for day in changed if span.contains(day)]
provisional = max(span.start, provisional_start(warehouse.data_end))
has_provisional = provisional <= period.end
st.subheader(f"Trend against target, by {grain}")
st.altair_chart(
    # A band needs days on the axis; weekly and monthly points say it in the caption instead.
    trend_chart(
        series, kpi["format"], provisional if has_provisional and grain == "day" else None, in_period, grain
    ),
    width="stretch",
)
notes = [f"Dashed line: the target for each {grain}."]
last_days = int(series["days"].iloc[-1])
full_days = grain_days(series["date"].iloc[-1], grain)
if last_days < full_days:
    notes.append(
        f"The last {grain} is to date ({last_days} of {full_days} days), against a target cut alike."
    )
if comparison is not None:
    notes.append(f"Dotted: {comparison.label} ({comparison.describe()}), laid over the same days.")
if has_provisional:
    shown = "Shaded" if grain == "day" else f"The last {grain} includes"
    notes.append(f"{shown}: provisional days from {provisional:%-d %b} (GA4 may still update them).")
if distinct and grain != "day" and series["value"].isna().any():
    notes.append(
        f"Gaps: {grain}s without an exact distinct count stored (`kpi values --kpi {kpi_id} --grain {grain}` "
        "counts any range)."
    )
if in_period:
    notes.append(
        "Purple rules: the KPI's definition changed (" + ", ".join(f"{d:%-d %b %Y}" for d in in_period) + ")."
    )
st.caption(" ".join(notes))

# Breakdowns: only the dimensions the KPI declares.
declared = list(kpi["breakdowns"])
labels = dict(zip(declared, kpi.get("breakdown_labels") or declared, strict=False))
if declared:
    st.subheader("Breakdowns")
    rows = data.breakdown_rows(ctx.path, kpi_id, period.start, period.end, warehouse.tables)
    if distinct:  # distinct users or sessions per breakdown value over the period, never a sum of days
        rows = data.period_breakdowns(ctx.path, kpi_id, period.start, period.end, warehouse.tables)
        if rows.empty:
            st.caption(missing_exact_note(kpi_id, period).replace("`.", " --breakdown DIMENSION`."))
    columns = st.columns(min(len(declared), 3))
    for index, dimension in enumerate(declared):
        with columns[index % len(columns)]:
            of_dimension = rows[rows["breakdown"] == dimension]
            top = top_n_with_other(of_dimension, kpi["aggregation"], TOP_N)
            st.markdown(f"**By {labels.get(dimension) or dimension}**")
            if top.empty:
                st.caption("No values in this period.")
            else:
                st.altair_chart(breakdown_chart(top, kpi["format"], dimension), width="stretch")
                flagged = caveats_of(of_dimension)
                if flagged:
                    st.caption(
                        f"≈ Estimates: some values are GA4 Data API values GA4 flagged: "
                        f"{describe_caveats(flagged)}."
                    )

# Definition, targets and the events behind the number.
st.subheader("Definition")
facts = {
    "KPI id": f"`{kpi_id}`",
    "Good direction": "higher is better" if kpi["direction"] == "up" else "lower is better",
    "Aggregation": kpi["aggregation"],
    "Time grain": kpi["time_grain"] or "—",
    "Format": kpi["format"] + (f" ({kpi['currency']})" if kpi["currency"] else ""),
    "Defined in": f"`{kpi['source_file']}`" if kpi["source_file"] else "—",
}
if kpi["tags"]:
    facts["Tags"] = ", ".join(kpi["tags"])
if export_only:
    facts["Source"] = "the BigQuery export only (the GA4 Data API cannot compute it; see above)"
st.markdown("\n".join(f"- {name}: {value}" for name, value in facts.items()))

if len(targets):
    word = "below" if kpi["direction"] == "up" else "above"
    st.markdown("**Targets** (each holds from its date until the next)")
    thresholds = []
    for name, threshold in (("warning", kpi["warn_threshold"]), ("critical", kpi["critical_threshold"])):
        if threshold is not None:
            thresholds.append(f"{name} {word} {format_value(threshold, kpi['format'], kpi['currency'])}")
    st.dataframe(
        pd.DataFrame(
            {
                "From": targets["valid_from"],
                "Target": [format_value(v, kpi["format"], kpi["currency"]) for v in targets["value"]],
            }
        ),
        hide_index=True,
    )
    if thresholds:
        per = f" per {kpi['time_grain']}" if kpi["aggregation"] == "sum" and kpi["time_grain"] else ""
        st.caption(f"Thresholds{per}: " + ", ".join(thresholds) + ".")

st.subheader("Events it depends on")
by_event = health.set_index("event_name") if len(health) else health
events = []
for name in kpi["events"]:
    row = by_event.loc[name] if name in by_event.index else None
    volume = int(row["events"]) if row is not None else 0
    invalid = int(row["invalid_events"]) if row is not None else 0
    last_seen = row["last_seen"] if row is not None else None
    events.append(
        {
            "Event": name,
            "Events in period": volume,
            "Violation rate": invalid / volume if volume else None,
            "Last seen": last_seen if last_seen is not None and pd.notna(last_seen) else None,
        }
    )
st.dataframe(
    pd.DataFrame(events, columns=["Event", "Events in period", "Violation rate", "Last seen"]),
    hide_index=True,
    column_config={
        "Events in period": st.column_config.NumberColumn(format="localized"),
        "Violation rate": st.column_config.NumberColumn(format="percent"),
        "Last seen": st.column_config.DateColumn(format="YYYY-MM-DD"),
    },
)
st.caption(f"Data health: {card.health.explain()}.")

if changed:
    st.subheader("Definition changes")
    st.dataframe(
        changes.iloc[1:].rename(
            columns={"effective_from": "Effective from", "definition_hash": "Definition hash"}
        ),
        hide_index=True,
    )
