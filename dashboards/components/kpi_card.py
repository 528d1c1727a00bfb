"""A KPI card: Streamlit's own st.metric, bordered, in the status colour, with a sparkline."""

from __future__ import annotations

import streamlit as st

from dashboards.scorecard import Card

KPI_PAGE = "app_pages/kpi.py"


def render_card(card: Card, link_params: dict[str, str] | None = None) -> None:
    """Draw one card; with `link_params`, a link to the KPI's page under it (carrying the view)."""
    st.metric(
        card.label,
        card.value_text,
        delta=card.delta_text,
        # The delta and sparkline take the status colour (not "up is green"): a falling cost that is
        # still over budget must not look good.
        delta_color=card.status.colour,
        delta_arrow="off" if _no_change(card.delta_text) else "auto",
        delta_description=card.description(),
        help=card.help_text(),
        border=True,
        chart_data=list(card.sparkline) or None,
        chart_type="area",
    )
    if card.exact_note:
        st.caption(card.exact_note)
    if link_params is not None:
        st.page_link(
            KPI_PAGE,
            label=f"{card.title} details",
            icon=":material/arrow_forward:",
            query_params={**link_params, "kpi": card.kpi_id},
        )


def _no_change(delta: str | None) -> bool:
    """ "+0.0%" and "-0.00 pp" are no change: show them without an arrow."""
    return delta is not None and not any(char in "123456789" for char in delta)
