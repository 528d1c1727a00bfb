"""`spec/events/<event>.schema.json`: JSON Schema (draft 2020-12) of each event, for a GA4 Measurement
Protocol event (`{name, params}`) or a dataLayer push (`{event, ...}`, ecommerce params under `ecommerce`).

`kpi check-events` validates against these same schemas.
"""

from __future__ import annotations

from typing import Any

from ..ga4 import limits
from ..spec.model import EventEntry, Need, ParamEntry
from .artifact import Artifact, json_artifact
from .context import RenderContext

DIALECT = "https://json-schema.org/draft/2020-12/schema"
# Param names GA4 accepts: a letter first, letters / digits / `_`, at most 40, no reserved prefix.
PARAM_NAME_PATTERN = r"^(?!_|firebase_|ga_|google_|gtag\.)[A-Za-z][A-Za-z0-9_]{0,39}$"
# A param the spec does not list: GA4 still collects it, if it is a short scalar.
OTHER_PARAM: dict[str, Any] = {"type": ["string", "number", "boolean"], "maxLength": limits.PARAM_VALUE_MAX}
ITEM_STRING_PARAMS = ("item_id", "item_name", "affiliation", "coupon", "item_brand", "item_category",
                      "item_category2", "item_category3", "item_category4", "item_category5", "item_list_id",
                      "item_list_name", "item_variant", "location_id", "creative_name", "creative_slot",
                      "promotion_id", "promotion_name")
ITEMS_MAX = 200


def needs_text(needs: tuple[Need, ...]) -> str:
    return "Needed by " + ", ".join(n.text for n in needs) + "." if needs else "No active KPI needs it."


def param_schema(p: ParamEntry) -> dict[str, Any]:
    """One param: type, enum, pattern, bounds and GA4's length limit."""
    schema: dict[str, Any]
    if p.type == "items":
        schema = {"$ref": "#/$defs/items"}
        if p.required:
            schema["minItems"] = 1
    else:
        schema = {"type": p.type}
    if p.enum:
        schema["enum"] = list(p.enum)
    if p.pattern:
        schema["pattern"] = p.pattern
    if p.min is not None:
        schema["minimum"] = p.min
    if p.max is not None:
        schema["maximum"] = p.max
    if p.max_length is not None:
        schema["maxLength"] = p.max_length
    words = [p.description.strip()] if p.description.strip() else []
    if p.pii:
        words.append(f"Personal data ({p.pii}): GA4's policy forbids sending it.")
    words.append(needs_text(p.needs) if p.needs else "Part of the event.")
    schema["description"] = " ".join(words)
    if p.example is not None:
        schema["examples"] = [p.example]
    return schema


def item_schema() -> dict[str, Any]:
    props: dict[str, Any] = {name: {"type": "string", "maxLength": limits.PARAM_VALUE_MAX}
                             for name in ITEM_STRING_PARAMS}
    props.update({"price": {"type": "number"}, "discount": {"type": "number"},
                  "quantity": {"type": "integer", "minimum": 1}, "index": {"type": "integer", "minimum": 0}})
    return {
        "type": "object",
        "description": "A product in GA4's `items` list: `item_id` or `item_name` is required.",
        "properties": props,
        "anyOf": [{"required": ["item_id"]}, {"required": ["item_name"]}],
        "propertyNames": {"pattern": PARAM_NAME_PATTERN},
        "additionalProperties": OTHER_PARAM,
    }


def event_schema(e: EventEntry) -> dict[str, Any]:
    """The whole schema document of one event."""
    required = [p.name for p in e.params if p.required]
    params: dict[str, Any] = {
        "type": "object",
        "properties": {p.name: param_schema(p) for p in e.params},
        "propertyNames": {"pattern": PARAM_NAME_PATTERN},
        "additionalProperties": OTHER_PARAM,
        "maxProperties": limits.PARAMS_PER_EVENT,
    }
    if required:
        params["required"] = required
    mp: dict[str, Any] = {
        "title": "GA4 Measurement Protocol event",
        "type": "object",
        "properties": {"name": {"const": e.name}, "params": {"$ref": "#/$defs/params"},
                       "timestamp_micros": {"type": "integer"}},
        "required": ["name", "params"] if required else ["name"],
        "additionalProperties": False,
    }
    if e.ecommerce:
        push: dict[str, Any] = {
            "title": "Google Tag Manager dataLayer push (ecommerce: params under `ecommerce`)",
            "type": "object",
            "properties": {"event": {"const": e.name}, "ecommerce": {"$ref": "#/$defs/params"}},
            "required": ["event", "ecommerce"],
        }
    else:
        push = {
            "title": "Google Tag Manager dataLayer push (params next to `event`)",
            "type": "object",
            "properties": {"event": {"const": e.name},
                           **{p.name: {"$ref": "#/$defs/params/properties/" + _pointer(p.name)} for p in e.params}},
            "required": ["event", *required],
            # Tag Manager's own keys may sit next to the params; anything else must be a GA4-valid name.
            "propertyNames": {"anyOf": [{"pattern": PARAM_NAME_PATTERN}, {"pattern": r"^gtm\."},
                                        {"enum": ["event", "eventCallback", "eventTimeout", "eventModel"]}]},
        }
    defs: dict[str, Any] = {"params": params}
    if e.ecommerce or any(p.type == "items" for p in e.params):
        defs["items"] = {"type": "array", "maxItems": ITEMS_MAX, "items": {"$ref": "#/$defs/item"}}
        defs["item"] = item_schema()
    description = " ".join(x for x in (e.trigger.strip(), needs_text(e.needs)) if x)
    return {
        "$schema": DIALECT,
        "title": f"GA4 event `{e.name}`",
        "description": description,
        "oneOf": [mp, push],
        "$defs": defs,
    }


def params_schema(e: EventEntry) -> dict[str, Any]:
    """Just the params object of one event (what check-events validates against)."""
    full = event_schema(e)
    return {"$schema": DIALECT, "$ref": "#/$defs/params", "$defs": full["$defs"]}


def _pointer(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def render(ctx: RenderContext) -> list[Artifact]:
    return [json_artifact(f"spec/events/{e.file_stem}.schema.json", event_schema(e)) for e in ctx.spec.events]
