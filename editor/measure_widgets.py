"""The `measure:` part of the KPI form: a kind, then pickers that offer only the catalog's events and params."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st
from generator.ga4.dimensions import DIMENSIONS
from generator.models.filters import OPERATORS
from generator.parse.catalog import KpiCatalog

from .measure_state import EVENT_KINDS, KINDS, PARAM_KINDS, POPULATION_KINDS, SIMPLE_KINDS
from .ui_text import IssueBoard, plain

KIND_LABELS = {
    "count": "Count of an event", "users_with": "Users who had an event", "sessions_with": "Sessions with an event",
    "users": "All users", "sessions": "All sessions", "new_users": "New users", "engaged_sessions": "Engaged sessions",
    "sum": "Sum of a number param", "average": "Average of a number param", "ratio": "One measure divided by another",
    "conversion": "Conversion: one event, then another within a time", "derived": "Formula over other KPIs",
}
OPERATOR_LABELS = {"equals": "is", "not_equals": "is not", "in": "is one of (comma-separated)",
                   "not_in": "is none of (comma-separated)", "contains": "contains", "starts_with": "starts with",
                   "gt": "is more than", "gte": "is at least", "lt": "is less than", "lte": "is at most",
                   "is_set": "is set (value true; false: is not set)"}
FIRST_EVER_LABEL = "Only each user's first one ever (a first sign-up, a first purchase), not the first of each day"
ValuesOf = Callable[[str, str, str | None], list[str]]  # (subject, name, event) -> values seen in the data


def _kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)  # a kind the generator gained before this form did shows as its name


def _operator_label(op: str) -> str:
    return OPERATOR_LABELS.get(op, op)


def _blank_as(prompt: str) -> Callable[[str], str]:
    """A `format_func` that shows the empty choice as `prompt`."""
    return lambda value: value or prompt


def _with_current(options: list[str], key: str) -> list[str]:
    """The choices, plus the field's current value when it is not one (so a typo stays visible)."""
    current = st.session_state.get(key)
    if isinstance(current, str) and current and current not in options:
        return [*options, current]
    return options


def event_picker(catalog: KpiCatalog, key: str, label: str = "Event") -> str:
    declared = sorted(n for n, e in catalog.events.items() if e.declared)
    builtin = sorted(n for n, e in catalog.events.items() if not e.declared)
    options = _with_current(["", *declared, *builtin], key)
    st.session_state.setdefault(key, "")
    return st.selectbox(label, options, key=key,
                        format_func=lambda n: "— choose an event —" if n == "" else (
                            n if n in declared or n not in catalog.events else f"{n} (GA4 built-in)"))


def param_picker(catalog: KpiCatalog, event: str, key: str, numeric: bool) -> None:
    spec = catalog.events.get(event)
    params = sorted(p for p, s in (spec.spec.params.items() if spec else [])
                    if not numeric or s.type in ("integer", "number"))
    st.session_state.setdefault(key, "")
    st.selectbox("Number param" if numeric else "Param", _with_current(["", *params], key), key=key,
                 format_func=lambda p: p or "— choose a param —")


def measure_form(catalog: KpiCatalog, board: IssueBoard, values_of: ValuesOf, kpi_ids: list[str]) -> None:
    st.session_state.setdefault("k.m.kind", "count")
    kind = st.selectbox("What is measured", list(KINDS), key="k.m.kind", format_func=_kind_label)
    if kind == "ratio":
        st.markdown("**Numerator** (what is counted on top)")
        simple_form(catalog, "k.m.num", values_of)
        board.show("measure.ratio.numerator")
        st.markdown("**Denominator** (what it is divided by)")
        simple_form(catalog, "k.m.den", values_of)
        board.show("measure.ratio.denominator")
    elif kind == "conversion":
        st.markdown("**First event**")
        event = event_picker(catalog, "k.m.from.event")
        first_ever_box("k.m.from")
        where_form(catalog, "k.m.from", event, values_of, params=True)
        board.show("measure.conversion.from")
        st.markdown("**Then this event**")
        event = event_picker(catalog, "k.m.to.event")
        first_ever_box("k.m.to")
        where_form(catalog, "k.m.to", event, values_of, params=True)
        board.show("measure.conversion.to")
        st.session_state.setdefault("k.m.within", "1d")
        st.text_input("Within (e.g. 30m, 24h, 1d, 7d)", key="k.m.within")
        st.session_state.setdefault("k.m.per", "user")
        st.radio("For the same", ["user", "session"], key="k.m.per", horizontal=True)
    elif kind == "derived":
        st.session_state.setdefault("k.m.formula", "")
        st.text_input("Formula: other KPIs' ids with + - * / and numbers", key="k.m.formula")
        st.selectbox("Insert a KPI id", ["", *kpi_ids], key="k.m.formula_pick", on_change=_insert_id,
                     format_func=lambda k: k or "— pick a KPI to add to the formula —")
    else:
        simple_form(catalog, "k.m.one", values_of, kind=kind)
    board.show("measure")


def _insert_id() -> None:
    picked = st.session_state.get("k.m.formula_pick")
    if picked:
        formula = str(st.session_state.get("k.m.formula", "")).rstrip()
        st.session_state["k.m.formula"] = f"{formula} {picked}".strip()
        st.session_state["k.m.formula_pick"] = ""


def simple_form(catalog: KpiCatalog, prefix: str, values_of: ValuesOf, kind: str | None = None) -> None:
    if kind is None:
        st.session_state.setdefault(f"{prefix}.kind", "count")
        kind = st.selectbox("Measure", list(SIMPLE_KINDS), key=f"{prefix}.kind", format_func=_kind_label)
    if kind in EVENT_KINDS or kind in PARAM_KINDS:
        event = event_picker(catalog, f"{prefix}.event")
        if kind in EVENT_KINDS:
            first_ever_box(prefix)
        if kind in PARAM_KINDS:
            param_picker(catalog, event, f"{prefix}.param", numeric=True)
        where_form(catalog, prefix, event, values_of, params=True)
    elif kind in POPULATION_KINDS:
        where_form(catalog, prefix, None, values_of, params=False)


def first_ever_box(prefix: str) -> None:
    """`first_ever: true`: each user's first matching event of all the data."""
    st.session_state.setdefault(f"{prefix}.first_ever", False)
    st.checkbox(FIRST_EVER_LABEL, key=f"{prefix}.first_ever")


def where_form(catalog: KpiCatalog, prefix: str, event: str | None, values_of: ValuesOf, params: bool) -> None:
    """Conditions: on a param of the event, or on a dimension; values seen in the data are offered."""
    count_key = f"{prefix}.where_n"
    st.session_state.setdefault(count_key, 0)
    spec = catalog.events.get(event or "")
    param_names = sorted(spec.spec.params) if spec else []
    for i in range(int(st.session_state[count_key])):
        p = f"{prefix}.where.{i}"
        cols = st.columns([2, 3, 3, 4])
        st.session_state.setdefault(f"{p}.subject", "param" if params else "dimension")
        subjects = ["param", "dimension"] if params else ["dimension"]
        subject = cols[0].selectbox("On", _with_current(subjects, f"{p}.subject"), key=f"{p}.subject")
        names = param_names if subject == "param" else sorted(DIMENSIONS)
        st.session_state.setdefault(f"{p}.name", "")
        name = cols[1].selectbox("Name", _with_current(["", *names], f"{p}.name"), key=f"{p}.name")
        st.session_state.setdefault(f"{p}.op", "equals")
        cols[2].selectbox("Condition", list(OPERATORS), key=f"{p}.op", format_func=_operator_label)
        st.session_state.setdefault(f"{p}.value", "")
        cols[3].text_input("Value", key=f"{p}.value")
        seen = values_of(subject, name, event) if name else []
        if seen:
            st.selectbox("Values in the loaded data", ["", *seen], key=f"{p}.pick", on_change=_pick_value, args=(p,),
                         format_func=_blank_as(f"— {len(seen)} values seen: pick one —"))
    add, remove = st.columns(2)
    add.button("Add a condition", key=f"{prefix}.add", on_click=_resize, args=(count_key, 1))
    if st.session_state[count_key]:
        remove.button("Remove the last condition", key=f"{prefix}.remove", on_click=_resize, args=(count_key, -1))


def _resize(key: str, delta: int) -> None:
    st.session_state[key] = max(0, int(st.session_state.get(key, 0)) + delta)


def _pick_value(p: str) -> None:
    picked = st.session_state.get(f"{p}.pick")
    if not picked:
        return
    current = str(st.session_state.get(f"{p}.value", "")).strip()
    if st.session_state.get(f"{p}.op") in ("in", "not_in") and current:
        st.session_state[f"{p}.value"] = f"{current}, {picked}"
    else:
        st.session_state[f"{p}.value"] = picked
    st.session_state[f"{p}.pick"] = ""


def breakdown_options(catalog: KpiCatalog, events: list[str]) -> list[str]:
    params = sorted({f"param:{p}" for e in events if (s := catalog.events.get(e)) for p in s.spec.params})
    current = [b for b in st.session_state.get("k.breakdowns", []) if b not in DIMENSIONS and b not in params]
    return [*DIMENSIONS, *params, *current]


__all__ = ["breakdown_options", "measure_form", "plain"]
