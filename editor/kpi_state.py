"""A KPI file as flat form fields (`k.title`, `k.target.0.value`, …) and back, in the file's key order.

Optional keys are written only when they differ from the default or were in the file already, so an
edit never adds noise to a file.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .measure_state import ParamType, State, measure_data, measure_state, number_or_text

KEY_ORDER = ("version", "kpi", "title", "description", "objective", "owner", "team", "status", "tags", "measure",
             "format", "currency", "direction", "target", "thresholds", "breakdowns", "time_grain")
DEFAULTS: dict[str, Any] = {"status": "active", "tags": [], "format": "number", "currency": None, "direction": "up",
            "target": None, "thresholds": None, "breakdowns": [], "time_grain": "day"}
TEXT_FIELDS = ("kpi", "title", "description", "objective", "owner", "team")
THRESHOLD_KEYS = {"up": ("warn_below", "critical_below"), "down": ("warn_above", "critical_above")}


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def kpi_state(data: dict[str, Any]) -> State:
    """The form fields for a KPI file's data (an empty dict for a new KPI)."""
    state: State = {f"k.{f}": _text(data.get(f)) for f in TEXT_FIELDS}
    state["k.status"] = _text(data.get("status", "active"))
    tags = data.get("tags")
    state["k.tags"] = ", ".join(map(str, tags)) if isinstance(tags, list) else _text(tags)
    state["k.format"] = _text(data.get("format", "number"))
    state["k.currency"] = _text(data.get("currency"))
    direction = _text(data.get("direction", "up"))
    state["k.direction"] = direction
    state["k.time_grain"] = _text(data.get("time_grain", "day"))
    breakdowns = data.get("breakdowns")
    state["k.breakdowns"] = [f"param:{b['param']}" if isinstance(b, dict) and "param" in b else str(b)
                             for b in (breakdowns if isinstance(breakdowns, list) else [])]
    state |= _target_state(data.get("target"))
    found = data.get("thresholds")
    thresholds = found if isinstance(found, dict) else {}
    warn, critical = THRESHOLD_KEYS.get(direction, THRESHOLD_KEYS["up"])
    other_warn, other_critical = THRESHOLD_KEYS["down" if warn == "warn_below" else "up"]
    state["k.th.warn"] = _text(thresholds.get(warn, thresholds.get(other_warn)))
    state["k.th.critical"] = _text(thresholds.get(critical, thresholds.get(other_critical)))
    return state | measure_state(data.get("measure"))


def _target_state(target: Any) -> State:
    if isinstance(target, list):
        state: State = {"k.target_mode": "changes over time", "k.target_n": len(target), "k.target": ""}
        for i, step in enumerate(target):
            step = step if isinstance(step, dict) else {}
            when = step.get("from")
            state[f"k.target.{i}.from"] = when.date() if isinstance(when, dt.datetime) else (
                when if isinstance(when, dt.date) else dt.date.today())
            state[f"k.target.{i}.value"] = _text(step.get("value"))
        return state
    if target is None:
        return {"k.target_mode": "none", "k.target": "", "k.target_n": 1}
    return {"k.target_mode": "one number", "k.target": _text(target), "k.target_n": 1}


def kpi_data(state: State, original: dict[str, Any], param_type: ParamType) -> dict[str, Any]:
    """The KPI file's data from the form, keys in the file's order (the original's, then the usual one)."""
    values: dict[str, Any] = {"version": original.get("version", 1)}
    for f in TEXT_FIELDS:
        values[f] = _text(state.get(f"k.{f}")).strip()
    values["status"] = state.get("k.status") or "active"
    values["tags"] = [t.strip() for t in _text(state.get("k.tags")).split(",") if t.strip()]
    values["measure"] = measure_data(state, param_type)
    values["format"] = state.get("k.format") or "number"
    values["currency"] = _text(state.get("k.currency")).strip().upper() or None
    direction = state.get("k.direction") or "up"
    values["direction"] = direction
    values["target"] = _target_data(state)
    warn_key, critical_key = THRESHOLD_KEYS.get(direction, THRESHOLD_KEYS["up"])
    thresholds = {k: number_or_text(v) for k, v in ((warn_key, state.get("k.th.warn")),
                                                     (critical_key, state.get("k.th.critical")))
                  if _text(v).strip()}
    values["thresholds"] = thresholds or None
    values["breakdowns"] = [{"param": b.split(":", 1)[1]} if b.startswith("param:") else b
                            for b in state.get("k.breakdowns") or []]
    values["time_grain"] = state.get("k.time_grain") or "day"
    if values["format"] != "currency" and "currency" not in original:
        values["currency"] = None
    order = [k for k in original if k in values]
    for n, key in enumerate(KEY_ORDER):  # a key the file lacks goes after the one the format puts before it
        if key not in order:
            before = [k for k in KEY_ORDER[:n] if k in order]
            order.insert(order.index(before[-1]) + 1 if before else 0, key)
    return {k: values[k] for k in order
            if values[k] is not None and (k in original or k not in DEFAULTS or values[k] != DEFAULTS[k])}


def _target_data(state: State) -> Any:
    mode = state.get("k.target_mode", "none")
    if mode == "one number":
        text = _text(state.get("k.target")).strip()
        return number_or_text(text) if text else None
    if mode == "changes over time":
        steps = []
        for i in range(int(state.get("k.target_n") or 0)):
            value = _text(state.get(f"k.target.{i}.value")).strip()
            if value:
                steps.append({"from": state.get(f"k.target.{i}.from"), "value": number_or_text(value)})
        return steps or None
    return None
