"""The events catalog form: add an event, or add (or change) a param of one, with the change checked live."""

from __future__ import annotations

import difflib

import pandas as pd
import streamlit as st

from .checking import Checked, check
from .events_edit import PARAM_TYPES, PII_KINDS, ParamForm, param_form_of, with_event, with_param
from .feedback import Comparison
from .ui_text import IssueBoard, plain
from .workspace import UnsafePathError, Workspace
from .yaml_edit import load_text

MESSAGE = "ev.message"


def events_page(ws: Workspace, disk: Checked) -> None:
    catalog = disk.validated.catalog
    path = ws.events_file(catalog)
    st.header("Events catalog")
    st.caption(plain(f"{ws.display(path)}: every event the site sends, when it fires, and what it carries. "
                     "GA4's built-in events are known already; add them here to describe the trigger or add params."))
    message = st.session_state.pop(MESSAGE, None)
    if message:
        st.success(plain(message))
    rows = [{"event": n, "trigger": e.spec.trigger, "key event": e.spec.key_event,
             "params": ", ".join(sorted(e.spec.params))} for n, e in sorted(catalog.events.items()) if e.declared]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    what = st.radio("Add", ["a param to an event", "an event"], key="ev.what", horizontal=True)
    original = ws.read(path)
    if what == "an event":
        name = _event_form()
        pending = with_event(original, name, st.session_state.get("ev.trigger", ""),
                             st.session_state.get("ev.description", ""),
                             bool(st.session_state.get("ev.key_event"))) if name else original
    else:
        name = _param_form(sorted(catalog.events), original)
        param = str(st.session_state.get("pa.name", "")).strip()
        pending = with_param(original, name, param, _param_values()) if name and param else original
    after = check(ws, {path: pending}) if pending != original else disk
    board = IssueBoard([i for i in after.issues_in(path) if name and i.location.key_path.startswith(f"events.{name}")])
    board.rest()
    if pending == original:
        st.caption("Fill in the form to see the change.")
        return
    st.markdown("**The change to the file**")
    st.code("".join(difflib.unified_diff(original.splitlines(keepends=True), pending.splitlines(keepends=True),
                                         fromfile=f"{ws.display(path)} (on disk)",
                                         tofile=f"{ws.display(path)} (after saving)")), language="diff")
    comp = Comparison(catalog, after.validated.catalog, not after.validated.report.errors)
    lines = [("BREAKING for IT: " if c.breaking else "") + c.message for c in comp.changes()]
    st.markdown("**What `kpi diff` will tell IT**")
    st.code("\n".join(lines) or "No change IT will see until a KPI uses it.", language=None)
    errors = [i for i in after.errors_in(path)]
    if errors:
        st.error("Fix the errors above before saving the events catalog.", icon=":material/error:")
    st.button("Save the events catalog", key="ev.save", type="primary", disabled=bool(errors),
              on_click=_save, args=(ws, path, original, pending))


def _event_form() -> str:
    st.text_input("Event name (lowercase letters, digits and _)", key="ev.name")
    st.text_input("Trigger: when and where it fires, in words IT can implement", key="ev.trigger")
    st.text_input("What it means for the business", key="ev.description")
    st.checkbox("Mark as a GA4 key event", key="ev.key_event")
    return str(st.session_state.get("ev.name", "")).strip()


def _param_form(events: list[str], original: str) -> str:
    st.session_state.setdefault("pa.event", "")
    event = st.selectbox("Event", ["", *events], key="pa.event", format_func=lambda e: e or "— choose an event —",
                         on_change=_prefill, args=(original,))
    st.text_input("Param name", key="pa.name", on_change=_prefill, args=(original,),
                  help="The name of a param the file declares already opens it for a change.")
    cols = st.columns(3)
    cols[0].selectbox("Type", list(PARAM_TYPES), key="pa.type")
    cols[1].checkbox("Required on every event", key="pa.required")
    cols[2].selectbox("Personal data", list(PII_KINDS), key="pa.pii")
    st.text_input("Description", key="pa.description")
    st.text_input("Allowed values (comma-separated; empty: any)", key="pa.allowed")
    st.text_input("Pattern every value must match (a regular expression; empty: none)", key="pa.pattern")
    cols = st.columns(3)
    cols[0].text_input("Minimum", key="pa.min")
    cols[1].text_input("Maximum", key="pa.max")
    cols[2].text_input("Example value", key="pa.example")
    return str(event or "")


_FORM_KEYS = {"type": "pa.type", "required": "pa.required", "description": "pa.description", "allowed": "pa.allowed",
              "pattern": "pa.pattern", "minimum": "pa.min", "maximum": "pa.max", "example": "pa.example", "pii": "pa.pii"}


def _prefill(original: str) -> None:
    """A param the file declares already: its fields fill the form, so a change never drops the others."""
    event, name = st.session_state.get("pa.event"), str(st.session_state.get("pa.name", "")).strip()
    events = load_text(original).get("events") or {}
    params = (events.get(event) or {}).get("params") or {} if isinstance(events.get(event), dict) else {}
    if name in params:
        form = param_form_of(params[name])
        for field, key in _FORM_KEYS.items():
            st.session_state[key] = getattr(form, field)


def _param_values() -> ParamForm:
    s = st.session_state
    return ParamForm(type=s.get("pa.type", "string"), required=bool(s.get("pa.required")),
                     description=s.get("pa.description", ""), allowed=s.get("pa.allowed", ""),
                     pattern=s.get("pa.pattern", ""), minimum=s.get("pa.min", ""), maximum=s.get("pa.max", ""),
                     example=s.get("pa.example", ""), pii=s.get("pa.pii", "no"))


def _save(ws: Workspace, path, original: str, pending: str) -> None:
    if ws.read(path) != original:
        st.session_state[MESSAGE] = "The file changed on disk meanwhile: nothing saved; look again and redo the change."
        return
    try:
        ws.write(path, pending)
    except (UnsafePathError, OSError) as exc:
        st.session_state[MESSAGE] = f"Not saved: {exc}"
        return
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(("ev.", "pa."))
                and k not in ("ev.what", "ev.save")]:
        del st.session_state[key]
    st.session_state[MESSAGE] = f"Saved {ws.display(path)}."
