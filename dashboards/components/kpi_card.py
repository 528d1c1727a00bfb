"""A KPI card: its full title, Streamlit's own st.metric in the status colour with a sparkline, and its
comparisons (chosen period, the other period, the target) in one muted line."""

from __future__ import annotations

import streamlit as st

from dashboards.comparisons import delta_colour
from dashboards.scorecard import Card
from dashboards.text import md_text

KPI_PAGE = "app_pages/kpi.py"


def render_card(card: Card, link_params: dict[str, str] | None = None, show_title: bool = True,
                why_empty: str | None = None) -> None:
    """Draw one card; with `link_params`, a link to the KPI's page under it (carrying the view); `why_empty`:
    why it has no value (dashboards/empty_cards.py), plain text."""
    with st.container(border=True):
        # The title in Markdown wraps; a metric label is cut at the card's width ("Cart-to-purchase con…").
        # The badges stay in the label too (its tooltip and screen readers), collapsed from view.
        if show_title:
            st.markdown(f"**{md_text(card.label)}**")
        st.metric(
            card.label,
            card.value_text,
            delta=card.delta_text,
            # The delta and sparkline take the status colour (not "up is green": a falling cost that is
            # still over budget must not look good), and a change the wrong way is never green.
            delta_color=delta_colour(card.status.colour, card.delta_good),
            delta_arrow="off" if _no_change(card.delta_text) else "auto",
            delta_description=card.description(),
            help=card.help_text(),
            label_visibility="collapsed" if show_title else "visible",
            border=False,
            chart_data=list(card.sparkline) or None,
            chart_type="area",
        )
        if card.comparisons:
            st.caption(" · ".join(_md(c.text()) for c in card.comparisons))
        if card.exact_note:
            st.caption(card.exact_note)
        if why_empty:
            st.caption(f":material/help: {md_text(why_empty)}")
        if link_params is not None:
            st.page_link(
                KPI_PAGE,
                label=f"{md_text(card.title)} details",
                icon=":material/arrow_forward:",
                query_params={**link_params, "kpi": card.kpi_id},
            )


def _no_change(delta: str | None) -> bool:
    """ "+0.0%" and "-0.00 pp" are no change: show them without an arrow."""
    return delta is not None and not any(char in "123456789" for char in delta)


def _md(text: str) -> str:
    # "$" would start LaTeX in Markdown ("$120 … $80"); "~" strikes through.
    return text.replace("$", "\\$").replace("~", "\\~")
