"""The KPI form: every field of the format, each with its validation issues right below it."""

from __future__ import annotations

import datetime as dt

import streamlit as st
from generator.parse.catalog import KpiCatalog

from .checking import Checked, check
from .feedback_panel import feedback_panel
from .measure_state import events_of
from .measure_widgets import ValuesOf, breakdown_options, measure_form
from .save_panel import save_panel
from .session import MESSAGE, OPEN, Candidate, candidate, duplicate, form_state, retire
from .ui_text import IssueBoard, plain
from .workspace import Workspace

FORMATS = ["number", "percent", "currency", "duration"]
STATUSES = ["active", "draft", "deprecated", "retired"]
TARGET_MODES = ["none", "one number", "changes over time"]


def kpi_page(ws: Workspace, disk: Checked, values_of: ValuesOf, trend_of) -> bool:
    """Draw the form; True when it holds changes not saved yet."""
    catalog = disk.validated.catalog
    cand = candidate(ws, catalog)
    after = check(ws, {cand.path: cand.text}) if cand.path and cand.changed else disk
    board = IssueBoard(after.issues_in(cand.path) if cand.path else [])
    opened = st.session_state.get(OPEN, "")
    st.header(plain(st.session_state.get("k.title") or "New KPI"))
    st.caption(plain(ws.display(cand.path)) if cand.path else "Not saved yet: give it an id and an objective.")
    _message()
    actions = st.columns(3)
    if opened:
        actions[0].button("Duplicate", key="act.duplicate", on_click=duplicate)
        actions[1].button("Retire", key="act.retire", on_click=retire,
                          help="Sets `status: retired`: the file stays, the KPI is no longer computed.")
    left, right = st.columns([3, 2], gap="large")
    with left:
        _fields(catalog, board, cand, values_of, sorted(catalog.kpis))
    with right:
        feedback_panel(ws, disk, after, cand, board, trend_of)
    save_panel(ws, disk, after, cand)
    return cand.changed and bool(st.session_state.get(OPEN) or st.session_state.get("k.kpi"))


def _message() -> None:
    message = st.session_state.pop(MESSAGE, None)
    if message:
        kind, text = message
        {"success": st.success, "error": st.error, "info": st.info}[kind](plain(text))


def _text(label: str, key: str, board: IssueBoard, path: str, **kwargs) -> None:
    st.session_state.setdefault(key, "")
    if kwargs.pop("area", False):
        st.text_area(label, key=key, height=80, **kwargs)
    else:
        st.text_input(label, key=key, **kwargs)
    board.show(path)


def _fields(catalog: KpiCatalog, board: IssueBoard, cand: Candidate, values_of: ValuesOf, kpi_ids: list[str]) -> None:
    st.subheader("What and why")
    _text("Id (lowercase letters, digits and _; the file is named after it)", "k.kpi", board, "kpi",
          disabled=bool(st.session_state.get(OPEN)))
    if cand.path is None and cand.problem:
        st.error(plain(cand.problem), icon=":material/error:")
    _text("Title", "k.title", board, "title", max_chars=80)
    _text("Description: what is measured, in a sentence or two", "k.description", board, "description", area=True)
    objectives = sorted({sk.kpi.objective for sk in catalog.kpis.values()})
    _text("Objective", "k.objective", board, "objective",
          help="KPIs with the same objective are grouped; a new KPI goes in their folder. Existing: "
               + "; ".join(objectives))
    _text("Owner (e-mail or name)", "k.owner", board, "owner")
    _text("Team", "k.team", board, "team")
    st.session_state.setdefault("k.status", "active")
    st.selectbox("Status", _choices(STATUSES, "k.status"), key="k.status")
    board.show("status")
    _text("Tags (comma-separated)", "k.tags", board, "tags")

    st.subheader("How it is computed")
    measure_form(catalog, board, values_of, [k for k in kpi_ids if k != st.session_state.get("k.kpi")])

    st.subheader("How it is shown")
    cols = st.columns(3)
    st.session_state.setdefault("k.format", "number")
    cols[0].selectbox("Format", _choices(FORMATS, "k.format"), key="k.format")
    st.session_state.setdefault("k.currency", "")
    cols[1].text_input("Currency (EUR, USD…)", key="k.currency", disabled=st.session_state["k.format"] != "currency")
    st.session_state.setdefault("k.direction", "up")
    cols[2].radio("Better when", _choices(["up", "down"], "k.direction"), key="k.direction", horizontal=True,
                  format_func={"up": "higher (up)", "down": "lower (down)"}.get)
    board.show("format", "currency", "direction")
    st.session_state.setdefault("k.time_grain", "day")
    st.radio("Trend chart by", _choices(["day", "week", "month"], "k.time_grain"), key="k.time_grain",
             horizontal=True, help="One point per day, week (Monday to Sunday) or month on the KPI's page. A KPI "
             "counting users or sessions gets each week's exact number (a user counted once a week) only with week.")
    board.show("time_grain")
    st.session_state.setdefault("k.breakdowns", [])
    st.multiselect("Breakdowns the dashboard may offer (at most 5)",
                   breakdown_options(catalog, events_of(form_state())), key="k.breakdowns")
    board.show("breakdowns")

    st.subheader("Target and thresholds")
    _target()
    board.show("target")
    up = st.session_state.get("k.direction", "up") == "up"
    amber, red = st.columns(2)
    st.session_state.setdefault("k.th.warn", "")
    st.session_state.setdefault("k.th.critical", "")
    amber.text_input(f"Amber {'below' if up else 'above'}", key="k.th.warn")
    red.text_input(f"Red {'below' if up else 'above'}", key="k.th.critical")
    board.show("thresholds")
    board.rest()


def _choices(options: list[str], key: str) -> list[str]:
    current = st.session_state.get(key)
    return options + ([current] if isinstance(current, str) and current and current not in options else [])


def _target() -> None:
    st.session_state.setdefault("k.target_mode", "none")
    mode = st.radio("Target", TARGET_MODES, key="k.target_mode", horizontal=True)
    if mode == "one number":
        st.session_state.setdefault("k.target", "")
        st.text_input("Target value (a share like 0.03 for 3 %)", key="k.target")
    elif mode == "changes over time":
        st.session_state.setdefault("k.target_n", 1)
        for i in range(int(st.session_state["k.target_n"])):
            cols = st.columns(2)
            st.session_state.setdefault(f"k.target.{i}.from", dt.date.today().replace(day=1))
            cols[0].date_input("From", key=f"k.target.{i}.from", format="YYYY-MM-DD")
            st.session_state.setdefault(f"k.target.{i}.value", "")
            cols[1].text_input("Target value", key=f"k.target.{i}.value")
        add, remove = st.columns(2)
        add.button("Add a target step", key="k.target_add", on_click=_steps, args=(1,))
        if st.session_state["k.target_n"] > 1:
            remove.button("Remove the last step", key="k.target_remove", on_click=_steps, args=(-1,))


def _steps(delta: int) -> None:
    st.session_state["k.target_n"] = max(1, int(st.session_state.get("k.target_n", 1)) + delta)
