"""KPI Bridge dashboard: navigation and the shared controls; the pages live in app_pages/.

Run with `kpi dashboard` (it sets KPIBRIDGE_SERVING_DB); the app only reads the serving database.
"""

from __future__ import annotations

import streamlit as st
from warehouse.periods import comparison_period, resolve_period

from dashboards import data
from dashboards.components import context, controls
from dashboards.components.guidance import show_unavailable
from dashboards.scorecard import active_definitions

st.set_page_config(page_title="KPI Bridge", page_icon=":material/monitoring:", layout="wide")

overview = st.Page("app_pages/overview.py", title="Overview", icon=":material/dashboard:", default=True)
kpi_page = st.Page("app_pages/kpi.py", title="KPI", icon=":material/query_stats:", url_path="kpi")
quality_page = st.Page("app_pages/quality.py", title="Data quality", icon=":material/rule:", url_path="quality")
page = st.navigation([overview, kpi_page, quality_page])

path = data.serving_db_from_env()
# One read-only connection for the run's reads (the page's too), closed when it ends.
with data.one_connection(path):
    warehouse = data.warehouse_status(path)
    if not warehouse.ok:
        show_unavailable(warehouse)
        st.stop()
    if warehouse.updating:
        st.info(warehouse.updating, icon=":material/sync:")

    data_start, data_end = warehouse.span
    every_definition = data.kpi_definitions(path)
    definitions = active_definitions(every_definition)
    choices = controls.Choices(
        teams=sorted(definitions["team"].dropna().unique()),
        objectives=sorted(definitions["objective"].dropna().unique()),
        kpi_ids=list(every_definition["kpi_id"]),
        data_start=data_start,
        data_end=data_end,
        segments=data.filter_choices(path),
    )
    controls.sync_from_url(choices)
    view = controls.render_sidebar(choices)
    period = resolve_period(view.period, data_end, view.start, view.end)
    comparison = comparison_period(period, view.period, view.compare)

    on_kpi_page = page.url_path == kpi_page.url_path
    if on_kpi_page and st.session_state.get("kpi") not in choices.kpi_ids:
        st.session_state["kpi"] = definitions["kpi_id"].iloc[0] if len(definitions) else choices.kpi_ids[0]
    controls.write_to_url(controls.with_kpi(view, st.session_state["kpi"] if on_kpi_page else None))

    context.publish(context.PageContext(path, warehouse, view, period, comparison))
    page.run()
