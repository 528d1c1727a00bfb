"""KPI page: one KPI's trend against its target, its declared breakdowns, definition and events."""

from __future__ import annotations

import difflib
from datetime import date, timedelta

import pandas as pd
import streamlit as st
from warehouse.periods import Period, intraday_sentence, provisional_start

from dashboards import data
from dashboards.breakdowns import breakdown_bars
from dashboards.comparisons import other_periods
from dashboards.components import context
from dashboards.components.attribution_note import render_attribution_note
from dashboards.components.breakdown_views import breakdown_trend, drill_select, numbers_table
from dashboards.components.charts import breakdown_chart, trend_chart
from dashboards.components.controls import segment_of, take_unknown_kpi
from dashboards.components.kpi_card import render_card
from dashboards.components.pacing import render_pacing
from dashboards.empty_cards import why_empty
from dashboards.estimates import api_note_words, caveats_of, describe_caveats, estimate_note, source_note
from dashboards.formatting import format_values
from dashboards.measures import grain_days, grain_start, shift_rows, trend
from dashboards.pacing import calendar_period, pacing, pacing_grain, previous_period
from dashboards.scorecard import (
    active_definitions,
    build_cards,
    event_healths,
    exact_lookup,
    missing_exact_note,
)
from dashboards.spec_health import spec_health
from dashboards.text import md_code, md_owner, md_text

TOP_N = 5
ALWAYS = date(2000, 1, 1)  # the date a single-number target holds from (generator: "from the beginning of time")

ctx = context.current()
period, comparison, warehouse = ctx.period, ctx.comparison, ctx.warehouse
data_start, data_end = warehouse.span
everything = data.kpi_definitions(ctx.path)
active_ids = list(active_definitions(everything)["kpi_id"])
ids = active_ids + [kpi for kpi in everything["kpi_id"] if kpi not in active_ids]
titles = dict(zip(everything["kpi_id"], everything["title"].fillna(everything["kpi_id"]), strict=True))

unknown = take_unknown_kpi()
if unknown:
    close = difflib.get_close_matches(unknown, ids, n=1)
    hint = f" Did you mean {md_code(close[0])}?" if close else ""
    st.warning(f"The link asks for KPI {md_code(unknown)}, which the warehouse does not hold.{hint}")

kpi_id = st.selectbox("KPI", ids, format_func=lambda k: titles[k], key="kpi")
kpi = everything[everything["kpi_id"] == kpi_id].iloc[0]

st.title(md_text(titles[kpi_id]))
who = [f"Objective: **{md_text(kpi['objective'] or '—')}**", f"Team: **{md_text(kpi['team'] or '—')}**"]
who.append(f"Owner: **{md_owner(kpi['owner'] or '—')}**")
if str(kpi["status"] or "active").lower() != "active":
    who.append(f"Status: **{md_text(kpi['status'])}** (not on the overview; its stored values are kept)")
st.markdown(" · ".join(who))

# The trend shows whole weeks or months from the one holding the period's first day (only the last
# may stop short, "to date"), so read from there, and as far before the comparison period.
grain = kpi["time_grain"] or "day"
span = Period(grain_start(period.start, grain), period.end, "trend")
lead = (period.start - span.start).days
first_day = min(span.start, comparison.start - timedelta(days=lead)) if comparison else span.start
alternatives = other_periods(period, ctx.view.period, ctx.view.compare)
first_day = min([first_day] + [p.start for p in alternatives])
segment = segment_of(ctx.view)
if segment is not None and segment[0] not in kpi["breakdowns"]:
    st.info(f"This KPI has no {segment[0]} breakdown, so the filter {segment[0]} = {segment[1]} does not apply: "
            "it shows the whole.", icon=":material/filter_alt_off:")
    segment = None
if segment is None:
    history = data.daily_totals(ctx.path, first_day, period.end)
else:
    history = data.segment_totals(ctx.path, segment, first_day, period.end)
    st.info(f"Filtered to **{segment[0]} = {segment[1]}**; the target is for the whole, so it is not applied.",
            icon=":material/filter_alt:")
history = history[history["kpi_id"] == kpi_id]
all_targets = data.kpi_targets(ctx.path)
all_targets = all_targets[all_targets["kpi_id"] == kpi_id]
targets = all_targets if segment is None else all_targets.iloc[0:0]
health = data.event_health(ctx.path, period.start, period.end)
exact = data.period_totals(ctx.path)
exact = exact[exact["kpi_id"] == kpi_id]
if segment is not None:  # exact distinct counts are stored for the whole, not per segment
    exact = exact.iloc[0:0]
distinct = bool(kpi.get("distinct_units")) if pd.notna(kpi.get("distinct_units")) else False
card = build_cards(
    everything[everything["kpi_id"] == kpi_id],
    targets,
    history,
    event_healths(health),
    period,
    comparison,
    data_end,
    alternatives,
    exact,
)[0]

# The days behind the card: one source a day (the export wins), GA4's caveats on Data API days.
period_rows = history[(history["date"] >= period.start) & (history["date"] <= period.end)]
export_only = api_note_words(kpi["api_note"])
left, right = st.columns([1, 2])
with left:
    render_card(card, show_title=False, why_empty=why_empty(
        card, data.value_findings(ctx.path), data_start, data_end))
    for note in (estimate_note(period_rows), source_note(period_rows)):
        if note:
            st.caption(note)
with right:
    plain = md_text(kpi["plain_words"] or kpi["description"] or "No description.")
    st.markdown(f"**In plain words.** {plain}")
    if kpi["description"] and kpi["plain_words"]:
        st.caption(md_text(kpi["description"], one_line=False))
    if export_only:
        st.caption(export_only)

# Trend at the KPI's time grain, against the time-phased target line.
phasing = list(zip(targets["valid_from"], targets["value"], strict=True))
series = trend(history, span, kpi["aggregation"], grain, phasing, kpi.get("target_per"))
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
changes = data.definition_changes(ctx.path, kpi_id)
# The first row records the definition the KPI started with; every later row is a change.
changed = list(changes["effective_from"])[1:]
in_period = [day for day in changed if span.contains(day)]
provisional = max(span.start, min([provisional_start(data_end), *warehouse.intraday_days]))
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
if comparison is not None and series["comparison"].notna().any():
    notes.append(f"Dotted: {comparison.label} ({comparison.describe()}), laid over the same days.")
elif comparison is not None:
    notes.append(f"No dotted comparison line: there is no data for {comparison.label} ({comparison.describe()}).")
if has_provisional:
    shown = "Shaded" if grain == "day" else f"The last {grain} includes"
    notes.append(f"{shown}: provisional days from {provisional:%-d %b} (GA4 may still update them).")
intraday = intraday_sentence(warehouse.intraday_days, span.start, period.end)
if intraday:
    notes.append(intraday)
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

# Pacing in the current week, month or quarter (the target's `per:`, else the trend's grain).
per = pacing_grain(kpi.get("target_per"), grain)
if per is not None and len(targets):
    earliest = previous_period(calendar_period(data_end, per), per).start
    pace_rows = data.daily_totals(ctx.path, earliest, data_end)
    render_pacing(
        pacing(pace_rows[pace_rows["kpi_id"] == kpi_id], phasing, kpi["aggregation"], per,
               kpi.get("target_projection") or "linear", data_end),
        kpi["format"], kpi["currency"], kpi["aggregation"],
    )

# Breakdowns: only the dimensions the KPI declares.
declared = list(kpi["breakdowns"])
labels = dict(zip(declared, kpi.get("breakdown_labels") or declared, strict=False))
if declared:
    rows = data.breakdown_rows(ctx.path, kpi_id, span.start, period.end)
    st.subheader("Breakdowns")
    in_period = rows[(rows["date"] >= period.start) & (rows["date"] <= period.end)]
    if distinct and segment is None:  # distinct users or sessions per value over the period, never a sum of days
        in_period = data.period_breakdowns(ctx.path, kpi_id, period.start, period.end)
        if in_period.empty:
            st.caption(md_text(missing_exact_note(kpi_id, period).replace("`.", " --breakdown DIMENSION`.")))
    columns = st.columns(min(len(declared), 3))
    for index, dimension in enumerate(declared):
        with columns[index % len(columns)]:
            of_dimension = in_period[in_period["breakdown"] == dimension]
            bars = breakdown_bars(of_dimension, kpi["aggregation"], kpi["format"], kpi["currency"], TOP_N)
            st.markdown(f"**By {md_text(labels.get(dimension) or dimension)}**")
            if bars.frame.empty:
                st.caption("No values in this period.")
                continue
            st.altair_chart(breakdown_chart(bars.frame, kpi["format"], dimension), width="stretch")
            st.caption("Each bar: the value, then its volume" + (
                " (the denominator)." if kpi["aggregation"] == "ratio" else " (share of the total)."
                if kpi["aggregation"] == "sum" else "."))
            if bars.all_not_set:
                st.warning(
                    f"Every value is `(not set)`: {dimension} is not sent with the KPI's events, or not "
                    "registered in GA4, so this breakdown tells nothing yet. Ask IT to check the tracking "
                    "spec (`kpi status`).",
                    icon=":material/report:",
                )
            if bars.invalid_values:
                st.caption(
                    f"invalid values ({bars.invalid_values}): values that look like personal data or are not "
                    "in the events catalog's allowed list are grouped, never shown."
                )
                st.page_link("app_pages/quality.py", label="See them in Data quality", icon=":material/rule:")
            flagged = caveats_of(of_dimension)
            if flagged:
                st.caption(
                    f"≈ Estimates: some values are GA4 Data API values GA4 flagged: "
                    f"{describe_caveats(flagged)}."
                )
            drill_select(dimension, bars.frame, segment)
    breakdown_trend(rows, declared, labels, span, kpi, grain)

render_attribution_note(ctx.path, kpi_id, period.start, period.end)
numbers_table(series, kpi, comparison)

# Definition, targets and the events behind the number.
st.subheader("Definition")
facts = {
    "KPI id": md_code(kpi_id),
    "Good direction": "higher is better" if kpi["direction"] == "up" else "lower is better",
    "Aggregation": kpi["aggregation"],
    "Time grain": kpi["time_grain"] or "—",
    "Format": md_text(kpi["format"] + (f" ({kpi['currency']})" if kpi["currency"] else "")),
    "Defined in": md_code(kpi["source_file"]) if kpi["source_file"] else "—",
}
if kpi["tags"]:
    facts["Tags"] = md_text(", ".join(kpi["tags"]))
if export_only:
    facts["Source"] = "the BigQuery export only (the GA4 Data API cannot compute it; see above)"
st.markdown("\n".join(f"- {name}: {value}" for name, value in facts.items()))

if len(all_targets):
    word = "below" if kpi["direction"] == "up" else "above"
    target_unit = f", per {kpi.get('target_per')}" if kpi.get("target_per") else ""
    named = [(n, t) for n, t in (("warning", kpi["warn_threshold"]), ("critical", kpi["critical_threshold"]))
             if t is not None]
    # Targets and thresholds in one precision: "€1,000 … €800", never "€1,000 … €800.00".
    texts = format_values([*all_targets["value"], *(t for _, t in named)], kpi["format"], kpi["currency"])
    target_texts, threshold_texts = texts[: len(all_targets)], texts[len(all_targets) :]
    thresholds = [f"{name} {word} {text}" for (name, _), text in zip(named, threshold_texts, strict=True)]
    steps = list(all_targets["valid_from"])
    if len(steps) == 1 and steps[0] <= ALWAYS:
        # A single number in the file holds on every day: no "From 2000-01-01".
        st.markdown(f"**Target**: {target_texts[0]}" + (f" per {kpi.get('target_per')}" if kpi.get("target_per") else ", on every day") + ".")
    else:
        st.markdown(f"**Targets** (each holds from its date until the next{target_unit})")
        st.dataframe(
            pd.DataFrame(
                {
                    "From": ["the start" if day <= ALWAYS else f"{day:%-d %b %Y}" for day in steps],
                    "Target": target_texts,
                }
            ),
            hide_index=True,
        )
    if thresholds:
        unit = kpi.get("target_per") or kpi["time_grain"]
        each = f" per {unit}" if kpi["aggregation"] == "sum" and unit else ""
        st.caption(f"Thresholds{each}: " + ", ".join(thresholds) + ".")

st.subheader("Events it depends on")
by_event = health.set_index("event_name") if len(health) else health
stamps = spec_health(ctx.path, period.start, period.end)
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
            "Spec version live": stamps.live_text(name),
            "Without consent": stamps.no_consent_share([name]),
        }
    )
st.dataframe(
    pd.DataFrame(events, columns=["Event", "Events in period", "Violation rate", "Last seen", "Spec version live",
                                  "Without consent"]),
    hide_index=True,
    column_config={
        "Events in period": st.column_config.NumberColumn(format="localized"),
        "Violation rate": st.column_config.NumberColumn(format="percent"),
        "Last seen": st.column_config.DateColumn(format="YYYY-MM-DD"),
        "Without consent": st.column_config.NumberColumn(format="percent"),
    },
)
st.caption(f"Data health: {card.health.explain()}.")
share = stamps.no_consent_share(list(kpi["events"]))
if share is not None:
    st.caption(
        f"Without consent: {share:.1%} of this KPI's events in the period were cookieless pings (GA4 consent "
        "mode: no user, no session). They count as events, but in no user or session count."
    )

if changed:
    st.subheader("Definition changes")
    st.dataframe(
        changes.iloc[1:].rename(
            columns={"effective_from": "Effective from", "definition_hash": "Definition hash"}
        ),
        hide_index=True,
    )
