"""Changes to the events catalog (`kpis/events.yaml`): add an event, add or change one of its params."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ruamel.yaml.comments import CommentedMap

from .measure_state import number_or_text
from .yaml_edit import dump_tree, load_text, merge, patch_lines, to_yaml

PARAM_TYPES = ("string", "integer", "number", "boolean", "items")
PII_KINDS = ("no", "email", "phone", "name", "address", "other")


@dataclass(frozen=True)
class ParamForm:
    """What the param form holds; empty fields are left out of the file."""

    type: str = "string"
    required: bool = False
    description: str = ""
    allowed: str = ""  # comma-separated allowed values
    pattern: str = ""
    minimum: str = ""
    maximum: str = ""
    example: str = ""
    pii: str = "no"

    def data(self) -> dict[str, Any]:
        numeric = self.type in ("integer", "number")
        out: dict[str, Any] = {"type": self.type}
        if self.required:
            out["required"] = True
        if self.description.strip():
            out["description"] = self.description.strip()
        values = [v.strip() for v in self.allowed.split(",") if v.strip()]
        if values:
            out["enum"] = [number_or_text(v) if numeric else v for v in values]
        if self.pattern.strip():
            out["pattern"] = self.pattern.strip()
        for key, text in (("min", self.minimum), ("max", self.maximum)):
            if text.strip():
                out[key] = number_or_text(text)
        if self.example.strip():
            out["example"] = number_or_text(self.example) if numeric else self.example.strip()
        if self.pii != "no":
            out["pii"] = self.pii
        return out


def _edited(text: str, change: Any) -> str:
    tree = load_text(text)
    base = dump_tree(load_text(text))
    change(tree)
    return patch_lines(text, base, dump_tree(tree))


def _events(tree: CommentedMap) -> CommentedMap:
    tree.setdefault("version", 1)
    if not isinstance(tree.get("events"), dict):
        tree["events"] = CommentedMap()
    return tree["events"]


def with_event(text: str, name: str, trigger: str, description: str = "", key_event: bool = False) -> str:
    """The catalog with the event added, or its trigger, description and key-event flag updated."""
    def change(tree: CommentedMap) -> None:
        events = _events(tree)
        wanted: dict[str, Any] = {"trigger": trigger.strip()}
        if description.strip():
            wanted["description"] = description.strip()
        if key_event:
            wanted["key_event"] = True
        old = events.get(name)
        if isinstance(old, CommentedMap):
            merged = {**{k: v for k, v in old.items() if k not in ("trigger", "description", "key_event")}}
            events[name] = merge(old, {**wanted, **merged})
        else:
            events[name] = to_yaml(wanted, top=True)
    return _edited(text, change)


def with_param(text: str, event: str, param: str, form: ParamForm) -> str:
    """The catalog with the param added to the event (the event too, when the file does not declare it)."""
    def change(tree: CommentedMap) -> None:
        events = _events(tree)
        if not isinstance(events.get(event), CommentedMap):
            events[event] = CommentedMap()
        spec = events[event]
        if not isinstance(spec.get("params"), CommentedMap):
            spec["params"] = CommentedMap()
        params = spec["params"]
        if isinstance(params.get(param), CommentedMap):
            params[param] = merge(params[param], form.data())
        else:
            params[param] = to_yaml(form.data(), top=True)
    return _edited(text, change)


def param_form_of(spec: Any) -> ParamForm:
    """The form for a param already in the file."""
    spec = spec if isinstance(spec, dict) else {}
    text = lambda key: "" if spec.get(key) is None else str(spec.get(key))  # noqa: E731
    enum = spec.get("enum")
    pii = spec.get("pii", False)
    return ParamForm(type=str(spec.get("type", "string")), required=spec.get("required") is True,
                     description=text("description"),
                     allowed=", ".join(map(str, enum)) if isinstance(enum, list) else "",
                     pattern=text("pattern"), minimum=text("min"), maximum=text("max"), example=text("example"),
                     pii="no" if pii is False else ("other" if pii is True else str(pii)))
