"""pydantic's ValidationError → Issues a marketer can act on, at the file:line:col of the bad key."""

from __future__ import annotations

import datetime as dt
import types
import typing
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ValidationError

from ..issues import Issue, Level, did_you_mean, one_of
from .loading import Document, KeyPath, dotted

_TYPE_TAGS = {"int", "float", "str", "bool", "none", "date", "list", "dict"}

_PATTERN_HELP = {
    "kpi": "use lowercase letters, digits and `_`, starting with a letter, at most 40 characters "
           "(e.g. `checkout_conversion_rate`)",
    "currency": "use a three-letter ISO 4217 code in capitals, e.g. `EUR` or `USD`",
    "within": "write a number and a unit: `30m`, `12h` or `7d`",
}

_KIND_WORDS = {
    "int_type": "a number", "float_type": "a number", "string_type": "text", "bool_type": "true or false",
    "list_type": "a list (items starting with `- `, or `[a, b]`)", "dict_type": "a block of `key: value` lines",
    "model_type": "a block of `key: value` lines", "model_attributes_type": "a block of `key: value` lines",
    "date_type": "a date (YYYY-MM-DD)", "literal_error": None,
}


def issues_from_validation_error(err: ValidationError, doc: Document, model: type[BaseModel]) -> list[Issue]:
    """One Issue per distinct problem; union branches that do not fit the value are dropped."""
    issues: dict[tuple[KeyPath, str], Issue] = {}
    errors = list(_relevant(err, doc))
    typos = _typo_targets(errors, model, doc)
    for error in errors:
        path = _key_path(error["loc"], doc.data)
        if error["type"] == "missing" and path in typos:
            continue  # reported as the misspelt key instead
        try:
            issue = _issue_for(error, path, doc, model)
        except Exception:  # noqa: BLE001 - a surprising pydantic error must still reach the user as an issue
            issue = Issue("KB203", Level.ERROR, f"`{dotted(path) or 'the top level'}` is not valid here.",
                          doc.locate(path), "Compare with the examples in kpis/ or the authoring guide (kpis/README.md).")
        issues.setdefault((path, issue.code), issue)
    return list(issues.values())


def _typo_targets(errors: list[dict[str, Any]], model: type[BaseModel], doc: Document) -> set[KeyPath]:
    """Missing keys that an unknown key next to them is a misspelling of."""
    from ..issues import suggest_closest

    out: set[KeyPath] = set()
    for error in errors:
        if error["type"] != "extra_forbidden":
            continue
        path = _key_path(error["loc"], doc.data)
        if not path:
            continue
        best = suggest_closest(str(path[-1]), allowed_keys(model, path[:-1]))
        if best:
            out.add((*path[:-1], best))
    return out


def _looks_like_tag(part: Any) -> bool:
    return isinstance(part, str) and ("[" in part or part[:1].isupper() or part in _TYPE_TAGS)


def _split_loc(loc: tuple[Any, ...], data: Any) -> tuple[KeyPath, KeyPath | None, str | None]:
    """(key path, key path before the first union tag, that tag) for a pydantic error `loc`.

    pydantic puts union branch names (`int`, `list[TargetStep]`, `ParamBreakdown`) into `loc`; a part is
    such a tag only where the file holds no key of that name, so a key like `Title:` or `int:` stays a key.
    """
    path: list[str | int] = []
    prefix: KeyPath | None = None
    tag: str | None = None
    current: Any = data
    for part in loc:
        if isinstance(current, dict) and isinstance(part, str) and part in current:
            path.append(part)
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            path.append(part)
            current = current[part]
        elif _looks_like_tag(part):
            if tag is None:
                prefix, tag = tuple(path), str(part)
        else:
            path.append(part)
            current = None
    return tuple(path), prefix, tag


def _key_path(loc: tuple[Any, ...], data: Any) -> KeyPath:
    return _split_loc(loc, data)[0]


def _value_at(data: Any, path: KeyPath) -> Any:
    for part in path:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def _tag_fits(tag: str, value: Any) -> bool:
    if isinstance(value, bool):
        return tag == "bool" or tag.startswith("literal[")
    if isinstance(value, int | float):
        return tag in ("int", "float")
    if isinstance(value, str):
        return tag == "str" or tag.startswith("literal[") or tag.startswith("function-")
    if isinstance(value, list):
        return tag.startswith("list[")
    if isinstance(value, dict):
        return tag[:1].isupper() or tag.startswith("dict[")
    if isinstance(value, dt.date):
        return tag == "date"
    return False


def _relevant(err: ValidationError, doc: Document) -> Iterator[dict[str, Any]]:
    """Drop errors from union branches whose type does not fit the value the file holds."""
    errors: list[dict[str, Any]] = [dict(e) for e in err.errors(include_url=False)]
    branch_errors: dict[KeyPath, list[tuple[str, dict[str, Any]]]] = {}
    for error in errors:
        _path, prefix, tag = _split_loc(error["loc"], doc.data)
        if prefix is None or tag is None:
            yield error
            continue
        branch_errors.setdefault(prefix, []).append((tag, error))
    for at, group in branch_errors.items():
        value = _value_at(doc.data, at)
        fitting = [e for tag, e in group if _tag_fits(tag, value)]
        if fitting:
            yield from fitting
        else:
            kinds = sorted({_branch_word(tag) for tag, _e in group})
            yield {"type": "union_mismatch", "loc": at, "msg": "", "input": value, "ctx": {"kinds": kinds}}


def _branch_word(tag: str) -> str:
    if tag in ("int", "float"):
        return "a number"
    if tag.startswith("list["):
        return "a list"
    if tag == "str" or tag.startswith("literal["):
        return "text"
    if tag == "bool":
        return "true or false"
    return "a block of `key: value` lines"


def _issue_for(error: dict[str, Any], path: KeyPath, doc: Document, model: type[BaseModel]) -> Issue:
    kind = error["type"]
    value = error.get("input")
    field_name = next((str(p) for p in reversed(path) if isinstance(p, str)), "")
    where = dotted(path) or "the top level"
    if kind == "missing":
        parent = path[:-1]
        desc = field_description(model, path)
        hint = f"Add `{field_name}:`" + (f" under `{dotted(parent)}`" if parent else " on its own line")
        return Issue("KB202", Level.ERROR, f"`{field_name}` is missing.", doc.locate(parent),
                     hint + (f": {desc[0].lower()}{desc[1:]}" if desc else "") + ".")
    if kind == "extra_forbidden":
        allowed = allowed_keys(model, path[:-1])
        hint = f"Keys allowed here: {one_of(allowed, 20)}." if allowed else "Remove it."
        return Issue("KB201", Level.ERROR, f"`{field_name}` is not a known key here.{did_you_mean(field_name, allowed)}",
                     doc.locate(path), hint)
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        choices = [c.strip().strip("'") for c in expected.replace(" or ", ",").split(",") if c.strip()]
        return Issue("KB204", Level.ERROR,
                     f"`{field_name}` is {_show(value)}, which is not one of the choices."
                     f"{did_you_mean(str(value), choices)}",
                     doc.locate(path), f"Use {one_of(choices)}.")
    if kind == "string_pattern_mismatch":
        help_ = _PATTERN_HELP.get(field_name, f"it must match `{error.get('ctx', {}).get('pattern', '')}`")
        return Issue("KB203", Level.ERROR, f"`{where}` is {_show(value)}, which is not allowed.",
                     doc.locate(path), help_[0].upper() + help_[1:] + ".")
    if kind in ("too_long", "too_short", "string_too_long", "string_too_short"):
        return Issue("KB203", Level.ERROR, f"`{where}`: {_clean(error['msg'])}.", doc.locate(path),
                     "Shorten or complete the value.")
    if kind in ("value_error", "assertion_error"):
        return Issue("KB205", Level.ERROR, f"`{where}`: {_clean(error['msg'])}.", doc.locate(path),
                     _value_error_hint(error["msg"]))
    if kind == "union_mismatch":
        kinds = error["ctx"]["kinds"]
        return Issue("KB203", Level.ERROR, f"`{where}` should be {' or '.join(kinds)}, not {_describe(value)}.",
                     doc.locate(path), _kind_hint(field_name))
    if kind.startswith("date") or kind.startswith("datetime"):
        return Issue("KB203", Level.ERROR, f"`{where}` is {_show(value)}, which is not a date.",
                     doc.locate(path), "Write dates as YYYY-MM-DD, e.g. 2026-04-01.")
    if kind in _KIND_WORDS or kind.endswith("_type") or kind.endswith("_parsing"):
        want = _KIND_WORDS.get(kind) or kind.replace("_type", "").replace("_parsing", "")
        return Issue("KB203", Level.ERROR, f"`{where}` should be {want}, not {_describe(value)}.",
                     doc.locate(path), _kind_hint(field_name))
    return Issue("KB203", Level.ERROR, f"`{where}`: {_clean(error['msg'])}.", doc.locate(path),
                 "Check the value against the authoring guide (kpis/README.md).")


def _clean(msg: str) -> str:
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    return msg.rstrip(".")


def _value_error_hint(msg: str) -> str:
    if "exactly one" in msg or "is empty" in msg:
        return "Keep exactly one measure kind, e.g. `count: {event: page_view}` (see kpis/README.md)."
    if "min" in msg and "max" in msg:
        return "Swap `min` and `max`."
    return "See the authoring guide (kpis/README.md)."


def _kind_hint(field_name: str) -> str:
    if field_name == "target":
        return "Write a number (`target: 0.03`) or steps (`target: [{from: 2026-01-01, value: 0.03}]`)."
    return "Compare with the examples in kpis/ or the authoring guide (kpis/README.md)."


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f"`{value[:60]}`" if value else "empty"
    return f"`{value!r}`" if not isinstance(value, dict | list) else _describe(value)


def _describe(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, int | float):
        return f"the number `{value}`"
    if isinstance(value, str):
        return f"the text `{value[:60]}`"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a block of keys"
    if isinstance(value, dt.date):
        return f"the date `{value}`"
    return type(value).__name__


# --- walking the model classes along a key path -----------------------------------------------

def _models_in(annotation: Any) -> list[Any]:
    """The BaseModel classes reachable from an annotation, with container depth markers."""
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in typing.get_args(annotation):
            out.extend(_models_in(arg))
        return out
    if origin in (list, dict):
        inner = typing.get_args(annotation)[-1]
        return [("container", m) for m in _models_in(inner)]
    if origin is typing.Annotated:
        return _models_in(typing.get_args(annotation)[0])
    return []


def model_at(model: type[BaseModel], path: KeyPath) -> type[BaseModel] | None:
    """The model class that holds the keys at `path` (None when the path leaves the models)."""
    current: Any = model
    parts = list(path)
    while parts:
        part = parts.pop(0)
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = _field(current, str(part))
        if field is None:
            return None
        found = _models_in(field.annotation)
        if not found:
            return None
        # A union of a list and a block (`target:`): the next part says which one the file holds.
        listed = bool(parts) and isinstance(parts[0], int)
        target = next((f for f in found if isinstance(f, tuple) == listed), found[0])
        if isinstance(target, tuple):
            if parts:
                parts.pop(0)  # the list index or dict key
            target = target[1]
        current = target
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _field(model: type[BaseModel], name: str) -> Any:
    for fname, info in model.model_fields.items():
        if name in (fname, info.alias):
            return info
    return None


def allowed_keys(model: type[BaseModel], path: KeyPath) -> list[str]:
    """The keys allowed at `path` (aliases as written in the file)."""
    holder = model_at(model, path)
    if holder is None:
        return []
    return [info.alias or name for name, info in holder.model_fields.items()]


def field_description(model: type[BaseModel], path: KeyPath) -> str:
    holder = model_at(model, path[:-1])
    if holder is None or not path:
        return ""
    info = _field(holder, str(path[-1]))
    return (info.description or "").split("\n")[0].rstrip(".") if info else ""
