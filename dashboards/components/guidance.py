"""What the reader sees instead of KPIs when there is nothing to show yet."""

from __future__ import annotations

import streamlit as st

from dashboards.data import GUIDANCE, WarehouseStatus


def show_unavailable(status: WarehouseStatus) -> None:
    """Say what is wrong with the serving database and what to run, in place of the page."""
    st.title("KPI Bridge")
    if status.state == "busy":
        st.warning(f"{status.detail}\n\nThe warehouse is being refreshed. Reload the page in a moment.")
        return
    if status.state == "outdated":
        st.warning(status.detail)
        return
    if status.state == "unreadable":
        st.error(f"{status.detail}\n\nRebuild the serving database with `kpi refresh`.")
        return
    st.info(
        f"{status.detail} No KPI values to show yet.\n\n"
        f"Load data and compute the KPIs, then reload this page:\n\n```\n{GUIDANCE}\n```"
    )
