"""Overview: one card per active KPI, most off-track first, grouped by objective or team."""

from __future__ import annotations

import streamlit as st
from warehouse.periods import intraday_sentence, provisional_days, provisional_start

from dashboards import data
from dashboards.comparisons import other_periods
from dashboards.components import context
from dashboards.components.controls import segment_of
from dashboards.components.kpi_card import render_card
from dashboards.empty_cards import explanations
from dashboards.scorecard import (
    MAX_CARDS,
    active_definitions,
    build_cards,
    cap_cards,
    event_healths,
    filter_definitions,
    group_cards,
    order_cards,
)
from dashboards.text import md_text
from dashboards.view_state import to_query_params

COLUMNS = 3

ctx = context.current()
view, period, comparison, warehouse = ctx.view, ctx.period, ctx.comparison, ctx.warehouse
data_start, data_end = warehouse.span

st.title("KPI overview")
summary = f"**{period.label}**: {period.describe()}"
if period.partial:
    summary += f" (partial: {period.days} days so far)"
if comparison is not None:
    summary += f" · compared with {comparison.label}: {comparison.describe()}"
if provisional_days(period, data_end):
    start = provisional_start(data_end)
    summary += f" · days from {start:%-d %b} are provisional (GA4 may still update them)"
intraday = intraday_sentence(warehouse.intraday_days, period.start, period.end)
if intraday:
    summary += f" · {intraday}"
st.caption(summary)

definitions = filter_definitions(
    active_definitions(data.kpi_definitions(ctx.path)), view.team, view.objective
)
if definitions.empty:
    st.info("No active KPI matches this team and objective. Clear a filter in the sidebar.")
    st.stop()

alternatives = other_periods(period, view.period, view.compare)
# The cards read their period and the periods they compare with, not the days between (a year, for
# "same weekdays last year").
shown_ranges = [(p.start, p.end) for p in [period, comparison, *alternatives] if p is not None]
segment = segment_of(view)
targets = data.kpi_targets(ctx.path)
if segment is None:
    totals = data.totals_over(ctx.path, shown_ranges)
else:
    declares = definitions["breakdowns"].map(lambda names: segment[0] in names)
    hidden = int((~declares).sum())
    definitions = definitions[declares]
    st.info(
        f"Filtered to **{segment[0]} = {segment[1]}**: each card shows that segment only. "
        + (f"{hidden} KPI(s) without a {segment[0]} breakdown are hidden. " if hidden else "")
        + "Targets are set for the whole, so segment cards show no target status.",
        icon=":material/filter_alt:",
    )
    if definitions.empty:
        st.stop()
    totals = data.totals_over(ctx.path, shown_ranges, segment)
    targets = targets.iloc[0:0]
cards = build_cards(
    definitions,
    targets,
    totals,
    event_healths(data.event_health(ctx.path, period.start, period.end)),
    period,
    comparison,
    data_end,
    alternatives,
    data.period_totals(ctx.path) if segment is None else None,
)
shown, left_off = cap_cards(order_cards(cards), MAX_CARDS)
if left_off:
    st.warning(
        f"Showing the {len(shown)} most urgent of {len(cards)} KPIs. "
        "Pick a team or an objective in the sidebar to see the others.",
        icon=":material/filter_alt:",
    )

link_params = to_query_params(view)
why = explanations(shown, data.value_findings(ctx.path), data_start, data_end)
for group, group_cards_ in group_cards(shown, view.group):
    st.subheader(md_text(group), divider="gray")
    for row_start in range(0, len(group_cards_), COLUMNS):
        columns = st.columns(COLUMNS)
        for column, card in zip(columns, group_cards_[row_start : row_start + COLUMNS], strict=False):
            with column:
                render_card(card, link_params, why_empty=why.get(card.kpi_id))
