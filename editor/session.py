"""The open KPI: which file, its original data, and the candidate text the form would save.

The form's fields live in `st.session_state` under `k.*` keys. Opening, creating, duplicating, retiring
and saving run as button callbacks (before the page is drawn), the only moment Streamlit lets code
change the fields.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st
from generator.parse.catalog import KpiCatalog

from .kpi_state import kpi_data, kpi_state
from .workspace import UnsafePathError, Workspace, check_id
from .yaml_edit import load_text, new_file_text, updated_text

OPEN = "edit.open"  # the file being edited ("" for a KPI not saved yet)
ORIGINAL = "edit.original"  # the file's text when it was opened
VIEW = "edit.view"  # "kpi" or "events"
MESSAGE = "edit.message"  # (kind, text) shown once after an action


def param_type_in(catalog: KpiCatalog):
    def param_type(event: str, param: str) -> str | None:
        spec = catalog.param(event, param)
        return spec.type if spec else None
    return param_type


def form_state() -> dict[str, Any]:
    """A copy of the session's fields (the form's keys are text; Streamlit's own may be numbers)."""
    return {k: v for k, v in st.session_state.items() if isinstance(k, str)}


def _clear_form() -> None:
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith("k.")]:
        del st.session_state[key]


def _fill(state: dict[str, Any]) -> None:
    _clear_form()
    for key, value in state.items():
        st.session_state[key] = value


def open_file(ws: Workspace, path: Path) -> None:
    try:
        text = ws.read(path)
    except (UnsafePathError, OSError) as exc:
        st.session_state[MESSAGE] = ("error", f"Cannot open it: {exc}")
        return
    _fill(kpi_state(dict(load_text(text))))
    st.session_state[OPEN] = str(path)
    st.session_state[ORIGINAL] = text
    st.session_state[VIEW] = "kpi"


def new_kpi() -> None:
    _fill(kpi_state({"status": "active"}))
    st.session_state[OPEN] = ""
    st.session_state[ORIGINAL] = ""
    st.session_state[VIEW] = "kpi"


def duplicate() -> None:
    """The open KPI as a new, unsaved one: same fields, a new id and title."""
    kpi_id = st.session_state.get("k.kpi", "")
    st.session_state["k.kpi"] = f"{kpi_id}_copy"[:40]
    st.session_state["k.title"] = f"{st.session_state.get('k.title', '')} (copy)"[:80]
    st.session_state[OPEN] = ""
    st.session_state[ORIGINAL] = ""


def retire() -> None:
    st.session_state["k.status"] = "retired"
    st.session_state[MESSAGE] = ("info", "Status set to `retired`: save to keep the file but stop computing the KPI.")


@dataclass(frozen=True)
class Candidate:
    """What saving the form would write, and where."""

    path: Path | None  # None: no valid place yet (e.g. the id is missing or invalid)
    text: str
    original: str
    problem: str = ""  # why it cannot be saved at all

    @property
    def changed(self) -> bool:
        return self.text != self.original

    def diff(self, label: str) -> str:
        return "".join(difflib.unified_diff(self.original.splitlines(keepends=True),
                                            self.text.splitlines(keepends=True),
                                            fromfile=f"{label} (on disk)" if self.original else "/dev/null",
                                            tofile=f"{label} (after saving)"))


def candidate(ws: Workspace, catalog: KpiCatalog, draft: bool = False) -> Candidate:
    """The file the form describes: the open file updated, or a new file named after the id."""
    original = st.session_state.get(ORIGINAL, "")
    state = form_state()
    if draft:
        state["k.status"] = "draft"
    data = kpi_data(state, dict(load_text(original)), param_type_in(catalog))
    opened = st.session_state.get(OPEN, "")
    if opened:
        return Candidate(Path(opened), updated_text(original, data), original)
    try:
        path = ws.new_kpi_path(check_id(data.get("kpi", "")), data.get("objective", ""), catalog)
    except UnsafePathError as exc:
        return Candidate(None, "", "", str(exc))
    if path.exists():
        return Candidate(None, "", "", f"{ws.display(path)} exists already: choose another id.")
    return Candidate(path, new_file_text(data, ws.schema_prefix(path)), "")


def save(ws: Workspace, catalog: KpiCatalog, draft: bool) -> None:
    """Write the candidate (as a draft when asked), then reopen the file as saved."""
    cand = candidate(ws, catalog, draft)
    if cand.path is None:
        st.session_state[MESSAGE] = ("error", cand.problem)
        return
    if cand.original and ws.read(cand.path) != cand.original:
        st.session_state[MESSAGE] = ("error", f"{ws.display(cand.path)} changed on disk since you opened it: nothing "
                                     "saved. Open it again to see the new version, then redo your change.")
        return
    try:
        written = ws.write(cand.path, cand.text)
    except (UnsafePathError, OSError) as exc:
        st.session_state[MESSAGE] = ("error", f"Not saved: {exc}")
        return
    open_file(ws, written)
    note = " as a draft: `kpi validate` still reports its errors" if draft else ""
    st.session_state[MESSAGE] = ("success", f"Saved {ws.display(written)}{note}.")
