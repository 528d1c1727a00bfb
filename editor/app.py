"""`kpi edit`: the form editor's Streamlit entry point (navigation, the KPI list, the pages).

Run by `kpi edit`; reads the KPI folder from $KPIBRIDGE_EDIT_KPIS and the warehouse from $KPIBRIDGE_DB.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

import streamlit as st
from warehouse.serving_contract import resolve_db, serving_path

from editor.checking import Checked, check
from editor.events_page import events_page
from editor.feedback import Comparison, compiled
from editor.kpi_page import kpi_page
from editor.session import OPEN, VIEW, new_kpi, open_file
from editor.ui_text import plain
from editor.warehouse_reads import filter_values, last_28_days
from editor.workspace import Workspace

KPIS_ENV = "KPIBRIDGE_EDIT_KPIS"
def _store() -> Path:
    return resolve_db(None)  # $KPIBRIDGE_DB (set by `kpi edit --db`), else the default store


def _version(path: Path) -> float | None:
    return path.stat().st_mtime if path.exists() else None


@st.cache_data(ttl=60, show_spinner=False)
def _values(store: str, version: float | None, subject: str, name: str, event: str | None) -> list[str]:
    return filter_values(Path(store), serving_path(Path(store)), subject, name, event)


def values_of(subject: str, name: str, event: str | None) -> list[str]:
    store = _store()
    return _values(str(store), _version(store), subject, name, event)


@st.cache_data(ttl=600, show_spinner="Computing the last 28 days on the warehouse…")
def _trend(store: str, version: float | None, kpi_id: str, definition_hash: str, _plan):
    return last_28_days(Path(store), _plan, kpi_id)


def trend_of(comp: Comparison, kpi_id: str):
    query = compiled(kpi_id, comp)
    if query is None:
        return "Only active KPIs without errors can be computed."
    store = _store()
    return _trend(str(store), _version(store), kpi_id, query.definition_hash, comp.plan_after())


def _sidebar(ws: Workspace, disk: Checked):
    """The KPI list; returns a slot at its top for the open KPI's "unsaved changes" note."""
    catalog = disk.validated.catalog
    st.sidebar.title("KPI editor")
    st.sidebar.caption(plain(f"Editing {ws.root}"))
    slot = st.sidebar.empty()
    st.sidebar.button("New KPI", key="nav.new", on_click=new_kpi, type="primary")
    st.sidebar.button("Events catalog", key="nav.events", on_click=_show_events)
    by_objective: dict[str, list] = defaultdict(list)
    for sk in catalog.kpis.values():
        by_objective[sk.kpi.objective].append(sk)
    broken = {i.location.file for i in disk.validated.report.errors}
    warned = {i.location.file for i in disk.validated.report.warnings}
    for objective in sorted(by_objective):
        st.sidebar.markdown(f"**{plain(objective)}**")
        for sk in sorted(by_objective[objective], key=lambda s: s.kpi.title):
            mark = "✗" if sk.doc.path in broken else ("!" if sk.doc.path in warned else "✓")
            status = "" if sk.kpi.status == "active" else f" · {sk.kpi.status}"
            path = ws.root.parent / sk.doc.path
            st.sidebar.button(f"{mark} {sk.kpi.title}{status}", key=f"open:{sk.kpi.kpi}", on_click=open_file,
                              args=(ws, path), help=f"{sk.doc.path}", width="stretch")
    unreadable = sorted(broken - {sk.doc.path for sk in catalog.kpis.values()})
    if unreadable:
        st.sidebar.markdown("**Files with errors**")
        for shown in unreadable:
            st.sidebar.button(f"✗ {shown}", key=f"open-file:{shown}", on_click=open_file,
                              args=(ws, ws.root.parent / shown), width="stretch")
    e, w = len(disk.validated.report.errors), len(disk.validated.report.warnings)
    st.sidebar.caption(f"`kpi validate` on the saved files: {e} error(s), {w} warning(s).")
    return slot


def _show_events() -> None:
    st.session_state[VIEW] = "events"


def main() -> None:
    st.set_page_config(page_title="KPI Bridge · editor", layout="wide")
    ws = Workspace.at(Path(os.environ.get(KPIS_ENV, "kpis")))
    if not ws.root.is_dir():
        st.error(plain(f"There is no KPI folder at {ws.root}. Start `kpi edit --kpis DIR` in your project."))
        return
    disk = check(ws)
    if OPEN not in st.session_state:
        new_kpi()
    slot = _sidebar(ws, disk)
    if st.session_state.get(VIEW) == "events":
        events_page(ws, disk)
    elif kpi_page(ws, disk, values_of, trend_of):
        slot.warning("Unsaved changes: opening another KPI discards them.", icon=":material/edit:")


main()
