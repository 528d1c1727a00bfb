"""On the KPI page of a KPI by channel, source, medium or campaign: how the period's sessions got their channel
(GA4's channel group, GA4's last click, derived from UTM, none), and the loud warning for days without any
session-level source (warehouse/attribution_summary.py words both, as `kpi status` does)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import streamlit as st
from warehouse.attribution_summary import summarize

from dashboards import data
from dashboards.text import md_text


def render_attribution_note(path: Path, kpi_id: str, start: date, end: date) -> None:
    if not data.uses_attribution(path, kpi_id):
        return
    summary = summarize(data.attribution_rows(path, start, end))
    if not summary.sessions:
        return
    st.caption(md_text(f"Channel attribution in this period: {summary.shares_text()} "
                       "(kpi status --attribution shows each day).", limit=2000))
    warning = summary.warning()
    if warning:
        st.warning(md_text(warning, limit=2000), icon=":material/report:")
