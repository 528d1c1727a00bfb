"""Generated from the models: the JSON Schema of the file format and the authoring guide's reference tables.

`python -m generator.targets.file_schema --write` regenerates `kpis/kpi.schema.json` and the tables between the markers
in `kpis/README.md`; `--check` exits 1 when either has drifted from the models (tests run the same check).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ..ga4.dimensions import DIMENSIONS
from ..issues import Level
from ..models.alerts import AlertSettings
from ..models.event import EventsCatalog, EventSpec, ParamSpec, UserPropertySpec
from ..models.filters import Condition
from ..models.kpi import Kpi, ParamBreakdown
from ..models.measure import (
    Conversion,
    EventRef,
    Formula,
    Measure,
    ParamRef,
    Population,
    Ratio,
    SimpleMeasure,
)
from ..models.target import PeriodTarget, TargetStep, Thresholds
from ..parse.catalog import builtin_events
from ..rules import ALL_RULES, code_titles
from ..rules.data_values import DATA_CODES

REPO = Path(__file__).resolve().parents[2]
SCHEMA_FILE = REPO / "kpis" / "kpi.schema.json"
GUIDE_FILE = REPO / "kpis" / "README.md"
SCHEMA_ID = "https://kpibridge.example/kpi.schema.json"

# Fields that also accept an event name as shorthand (`sessions_with: purchase`), see models/measure.py.
_EVENT_SHORTHAND = {"SimpleMeasure": ("count", "users_with", "sessions_with"),
                    "Measure": ("count", "users_with", "sessions_with"), "Conversion": ("from", "to")}


def json_schema() -> dict[str, Any]:
    """The JSON Schema a KPI file or the events catalog validates against (for editors)."""
    _, top = models_json_schema([(Kpi, "validation"), (EventsCatalog, "validation")],
                                ref_template="#/$defs/{model}")
    defs: dict[str, Any] = top["$defs"]
    shorthand = {"type": "string", "description": "Short for `{event: <name>}`."}
    for model, fields in _EVENT_SHORTHAND.items():
        for name in fields:
            prop = defs[model]["properties"][name]
            options = prop.pop("anyOf", None) or [{"$ref": prop.pop("$ref")}]
            prop["anyOf"] = [*options[:1], shorthand, *options[1:]]
    for model in ("SimpleMeasure", "Measure"):  # exactly one measure kind
        defs[model].update(minProperties=1, maxProperties=1)
    defs["Condition"].update(minProperties=2, maxProperties=2)  # a subject and one comparison
    known = {"type": "string", "enum": sorted(DIMENSIONS)}
    defs["Kpi"]["properties"]["breakdowns"]["items"]["anyOf"][0] = known
    defs["Condition"]["properties"]["dimension"]["anyOf"][0] = known
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "KPI Bridge: a KPI file or the events catalog",
        "description": "Generated from generator/models by `kpi schema`; do not edit. Guide: kpis/README.md.",
        "anyOf": [{"$ref": "#/$defs/Kpi"}, {"$ref": "#/$defs/EventsCatalog"}],
        "$defs": dict(sorted(defs.items())),
    }


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


# --- the authoring guide's tables ---------------------------------------------------------------

# (heading, model) in the order a marketer meets them.
GUIDE_MODELS: tuple[tuple[str, type[BaseModel]], ...] = (
    ("KPI file", Kpi),
    ("measure", Measure),
    ("Event reference", EventRef),
    ("Param reference", ParamRef),
    ("Users or sessions", Population),
    ("ratio", Ratio),
    ("conversion", Conversion),
    ("derived", Formula),
    ("Condition", Condition),
    ("Param breakdown", ParamBreakdown),
    ("Target step", TargetStep),
    ("Target per period", PeriodTarget),
    ("thresholds", Thresholds),
    ("alerts", AlertSettings),
    ("Events catalog", EventsCatalog),
    ("Event declaration", EventSpec),
    ("Param declaration", ParamSpec),
    ("User property", UserPropertySpec),
)
_HEADINGS: dict[type[BaseModel], str] = {model: heading for heading, model in GUIDE_MODELS}
_HEADINGS[SimpleMeasure] = "measure"  # a ratio's sides are measures of the simple kinds


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading."""
    kept = "".join(c for c in heading.lower() if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")

FIELDS_BEGIN = "<!-- BEGIN generated field tables: python -m generator.targets.file_schema --write -->"
FIELDS_END = "<!-- END generated field tables -->"
EVENTS_BEGIN = "<!-- BEGIN generated built-in events: python -m generator.targets.file_schema --write -->"
EVENTS_END = "<!-- END generated built-in events -->"
CODES_BEGIN = "<!-- BEGIN generated issue codes: python -m generator.targets.file_schema --write -->"
CODES_END = "<!-- END generated issue codes -->"


def _type_words(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin is typing.Literal:
        return " / ".join(f"`{str(a).lower() if isinstance(a, bool) else a}`" for a in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        words: list[str] = []
        for arg in args:
            word = _type_words(arg)
            if word not in words:
                words.append(word)
        return " or ".join(words)
    if origin is list:
        return f"list of {_type_words(args[0])}"
    if origin is dict:
        return f"names → {_type_words(args[-1])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        heading = _HEADINGS.get(annotation, annotation.__name__)
        return f"[{heading}](#{_anchor(heading)})"
    return {str: "text", int: "number", float: "number", bool: "`true` / `false`",
            dt.date: "date (YYYY-MM-DD)"}.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _default_words(info: Any) -> str:
    if info.is_required():
        return "**required**"
    if info.default_factory is not None:
        return "optional"
    default = info.default
    if default is None or default == "":
        return "optional"
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    return f"`{default}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def field_table(model: type[BaseModel]) -> str:
    rows = ["| Key | Value | Default | What it means |", "|---|---|---|---|"]
    for name, info in model.model_fields.items():
        key = info.alias or name
        type_words = _type_words(info.annotation)
        if key in _EVENT_SHORTHAND.get(model.__name__, ()) or (model is Measure and key in _EVENT_SHORTHAND["Measure"]):
            type_words += " or an event name"
        rows.append(f"| `{key}` | {_cell(type_words)} | {_default_words(info)} | {_cell(info.description or '')} |")
    return "\n".join(rows)


def field_tables() -> str:
    parts = []
    for heading, model in GUIDE_MODELS:
        doc = (model.__doc__ or "").strip().split("\n")[0]
        parts.append(f"#### {heading}\n\n{_cell(doc)}\n\n{field_table(model)}\n")
    return "\n".join(parts)


def codes_table() -> str:
    levels = {rule.code: rule.level for rule in ALL_RULES}
    levels.update({c.code: c.level for c in DATA_CODES})
    rows = ["| Code | Level | What it checks |", "|---|---|---|"]
    for code, title in code_titles().items():
        rows.append(f"| {code} | {levels.get(code, Level.ERROR).value} | {_cell(title)} |")
    return "\n".join(rows) + "\n"


def builtin_events_table() -> str:
    """GA4's built-in events with their documented params (required ones in bold)."""
    rows = ["| Event | Params (**required**) | Fires |", "|---|---|---|"]
    for name, spec in builtin_events().items():
        params = ", ".join(f"**`{p}`**" if ps.required else f"`{p}`" for p, ps in spec.params.items()) or "–"
        rows.append(f"| `{name}` | {params} | {_cell(spec.trigger)} |")
    return "\n".join(rows) + "\n"


def _replace_between(text: str, begin: str, end: str, body: str) -> str:
    head, sep, rest = text.partition(begin)
    if not sep or end not in rest:
        raise ValueError(f"markers {begin!r} … {end!r} not found")
    return f"{head}{begin}\n\n{body}\n{end}{rest.partition(end)[2]}"


def guide_text(current: str) -> str:
    """The authoring guide with its generated tables brought up to date."""
    text = _replace_between(current, FIELDS_BEGIN, FIELDS_END, field_tables())
    text = _replace_between(text, EVENTS_BEGIN, EVENTS_END, builtin_events_table())
    return _replace_between(text, CODES_BEGIN, CODES_END, codes_table())


def drifted() -> list[Path]:
    """The generated files whose committed copy differs from what the models give."""
    out = []
    if not SCHEMA_FILE.exists() or SCHEMA_FILE.read_text(encoding="utf-8") != json_schema_text():
        out.append(SCHEMA_FILE)
    guide = GUIDE_FILE.read_text(encoding="utf-8") if GUIDE_FILE.exists() else ""
    try:
        if guide_text(guide) != guide:
            out.append(GUIDE_FILE)
    except ValueError:
        out.append(GUIDE_FILE)
    return out


def write() -> list[Path]:
    """Regenerate both files; return the ones that changed."""
    changed = drifted()
    SCHEMA_FILE.write_text(json_schema_text(), encoding="utf-8")
    GUIDE_FILE.write_text(guide_text(GUIDE_FILE.read_text(encoding="utf-8")), encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generator.targets.file_schema", description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", action="store_true", help="regenerate kpis/kpi.schema.json and kpis/README.md")
    group.add_argument("--check", action="store_true", help="exit 1 when a generated file has drifted")
    args = parser.parse_args(argv)
    if args.write:
        changed = write()
        print("updated: " + ", ".join(str(p.relative_to(REPO)) for p in changed) if changed else "up to date")
        return 0
    stale = drifted()
    for path in stale:
        print(f"{path.relative_to(REPO)} is out of date: run `make schema`", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
