"""The `measure:` block as flat form fields (`k.m.kind`, `k.m.num.event`, …) and back.

Pure functions, no Streamlit: the app draws one widget per field, and tests check the round trip.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from generator.models.filters import OPERATORS
from generator.models.measure import Measure, SimpleMeasure

EVENT_KINDS = ("count", "users_with", "sessions_with")
POPULATION_KINDS = ("users", "sessions", "new_users", "engaged_sessions")
PARAM_KINDS = ("sum", "average")
SIMPLE_KINDS = tuple(SimpleMeasure.kind_names())
KINDS = tuple(Measure.kind_names())
NUMBER_OPERATORS = ("gt", "gte", "lt", "lte")
LIST_OPERATORS = ("in", "not_in")

ParamType = Callable[[str, str], str | None]  # (event, param) -> catalog type, or None
State = dict[str, Any]


def number_or_text(text: Any) -> Any:
    """`12` → 12, `0.5` → 0.5, anything else stays text (so the checker names it, with its code)."""
    if not isinstance(text, str):
        return text
    stripped = text.strip()
    for kind in (int, float):
        try:
            return kind(stripped)
        except ValueError:
            continue
    return stripped


# --- file → form ---------------------------------------------------------------------------------------


def measure_state(measure: Any) -> State:
    state: State = {}
    measure = measure if isinstance(measure, dict) else {}
    kind = next((k for k in KINDS if k in measure), "count")
    state["k.m.kind"] = kind
    spec = measure.get(kind)
    if kind == "ratio":
        spec = spec if isinstance(spec, dict) else {}
        state |= simple_state("k.m.num", spec.get("numerator"))
        state |= simple_state("k.m.den", spec.get("denominator"))
    elif kind == "conversion":
        spec = spec if isinstance(spec, dict) else {}
        state |= event_ref_state("k.m.from", spec.get("from"))
        state |= event_ref_state("k.m.to", spec.get("to"))
        state["k.m.within"] = str(spec.get("within", "1d"))
        state["k.m.per"] = spec.get("per", "user")
    elif kind == "derived":
        state["k.m.formula"] = str((spec or {}).get("formula", "")) if isinstance(spec, dict) else ""
    else:
        state |= simple_state("k.m.one", {kind: spec})
    return state


def simple_state(prefix: str, simple: Any) -> State:
    simple = simple if isinstance(simple, dict) else {}
    kind = next((k for k in SIMPLE_KINDS if k in simple), "count")
    spec = simple.get(kind)
    state: State = {f"{prefix}.kind": kind}
    if kind in EVENT_KINDS:
        state |= event_ref_state(prefix, spec)
    elif kind in PARAM_KINDS:
        spec = spec if isinstance(spec, dict) else {}
        state |= event_ref_state(prefix, spec)
        state[f"{prefix}.param"] = str(spec.get("param", ""))
    else:
        spec = spec if isinstance(spec, dict) else {}
        state |= where_state(prefix, spec.get("where"))
    return state


def event_ref_state(prefix: str, ref: Any) -> State:
    if isinstance(ref, str):
        return {f"{prefix}.event": ref} | where_state(prefix, [])
    ref = ref if isinstance(ref, dict) else {}
    state: State = {f"{prefix}.event": str(ref.get("event", ""))} | where_state(prefix, ref.get("where"))
    if ref.get("first_ever"):
        state[f"{prefix}.first_ever"] = ref["first_ever"]
    return state


def where_state(prefix: str, where: Any) -> State:
    conditions = [c for c in where if isinstance(c, dict)] if isinstance(where, list) else []
    state: State = {f"{prefix}.where_n": len(conditions)}
    for i, cond in enumerate(conditions):
        subject = "param" if "param" in cond else "dimension"
        op = next((o for o in OPERATORS if o in cond), "equals")
        value = cond.get(op)
        if isinstance(value, bool):
            value = "true" if value else "false"
        text = ", ".join(map(str, value)) if isinstance(value, list) else ("" if value is None else str(value))
        state |= {f"{prefix}.where.{i}.subject": subject, f"{prefix}.where.{i}.name": str(cond.get(subject, "")),
                  f"{prefix}.where.{i}.op": op, f"{prefix}.where.{i}.value": text}
    return state


# --- form → file ---------------------------------------------------------------------------------------


def measure_data(state: State, param_type: ParamType) -> dict[str, Any]:
    kind = state.get("k.m.kind", "count")
    if kind == "ratio":
        return {"ratio": {"numerator": simple_data("k.m.num", state, param_type),
                          "denominator": simple_data("k.m.den", state, param_type)}}
    if kind == "conversion":
        return {"conversion": {"from": event_ref_data("k.m.from", state, param_type),
                               "to": event_ref_data("k.m.to", state, param_type),
                               "within": str(state.get("k.m.within", "")).strip(),
                               "per": state.get("k.m.per", "user")}}
    if kind == "derived":
        return {"derived": {"formula": str(state.get("k.m.formula", "")).strip()}}
    return simple_data("k.m.one", {**state, "k.m.one.kind": kind}, param_type)


def simple_data(prefix: str, state: State, param_type: ParamType) -> dict[str, Any]:
    kind = state.get(f"{prefix}.kind", "count")
    if kind in EVENT_KINDS:
        return {kind: event_ref_data(prefix, state, param_type)}
    event = str(state.get(f"{prefix}.event", "")).strip()
    if kind in PARAM_KINDS:
        spec: dict[str, Any] = {"event": event, "param": str(state.get(f"{prefix}.param", "")).strip()}
        where = where_data(prefix, state, event, param_type)
        return {kind: spec | ({"where": where} if where else {})}
    where = where_data(prefix, state, None, param_type)
    return {kind: {"where": where} if where else {}}


def event_ref_data(prefix: str, state: State, param_type: ParamType) -> Any:
    """`purchase`, or `{event: purchase, where: [...]}` when it has conditions (or is a first-ever event)."""
    event = str(state.get(f"{prefix}.event", "")).strip()
    where = where_data(prefix, state, event, param_type)
    first_ever = state.get(f"{prefix}.first_ever", False)
    if not where and not first_ever:
        return event
    return {"event": event} | ({"first_ever": first_ever} if first_ever else {}) | ({"where": where} if where else {})


def where_data(prefix: str, state: State, event: str | None, param_type: ParamType) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(int(state.get(f"{prefix}.where_n", 0) or 0)):
        p = f"{prefix}.where.{i}"
        subject = state.get(f"{p}.subject", "param")
        name = str(state.get(f"{p}.name", "") or "").strip()
        op = state.get(f"{p}.op", "equals")
        text = state.get(f"{p}.value", "")
        if not name and not str(text).strip():
            continue  # an empty row the user has not filled in yet
        if op == "is_set":  # true (also when left empty) or false; anything else stays text, for the checker
            answer = str(text).strip().lower()
            out.append({subject: name, op: {"": True, "true": True, "false": False}.get(answer, str(text).strip())})
            continue
        numeric = op in NUMBER_OPERATORS or (
            subject == "param" and event is not None and param_type(event, name) in ("integer", "number"))
        if isinstance(text, list):
            parts = [str(t) for t in text]
        else:
            parts = [t.strip() for t in str(text).split(",")] if op in LIST_OPERATORS else [str(text).strip()]
        values = [number_or_text(v) if numeric else v for v in parts if v != "" or op not in LIST_OPERATORS]
        value = values if op in LIST_OPERATORS else (values[0] if values else "")
        out.append({subject: name, op: value})
    return out


def events_of(state: State) -> list[str]:
    """The events the form's measure names (for pickers of params and breakdowns)."""
    two_sided: dict[str, tuple[str, ...]] = {"ratio": ("k.m.num", "k.m.den"), "conversion": ("k.m.from", "k.m.to")}
    prefixes = two_sided.get(str(state.get("k.m.kind", "")), ("k.m.one",))
    return [e for p in prefixes if (e := str(state.get(f"{p}.event", "") or "").strip())]
