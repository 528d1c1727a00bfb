"""The events catalog: every event IT implements, with its params, and whether they hold PII."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ._base import Strict

ParamType = Literal["string", "integer", "number", "boolean", "items"]
PiiKind = Literal["email", "phone", "name", "address", "other"]


class ParamSpec(Strict):
    """One event parameter."""

    type: ParamType
    """`string`, `integer`, `number`, `boolean`, or `items` (GA4's ecommerce item list)."""
    required: bool = False
    """Whether every event must carry it."""
    description: str = ""
    """What the value means, for IT and analysts."""
    enum: list[str | int] | None = None
    """The only values allowed."""
    pattern: str | None = None
    """A regular expression every value must match."""
    min: int | float | None = None
    """The smallest allowed number."""
    max: int | float | None = None
    """The largest allowed number."""
    example: str | int | float | bool | None = None
    """A realistic value; used in snippets and sample events."""
    pii: bool | PiiKind = False
    """Whether the value identifies a person: `false`, or `email`, `phone`, `name`, `address`, `other`.
    GA4's policy forbids sending personal data."""

    @model_validator(mode="after")
    def _bounds_make_sense(self) -> ParamSpec:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"`min` ({self.min}) is larger than `max` ({self.max})")
        return self


class EventSpec(Strict):
    """One event: when it fires, and what it carries."""

    trigger: str = Field(default="", description="When and where the event fires, in words IT can implement.")
    """When and where it fires, in words IT can implement: `When the order confirmation page loads`."""
    description: str = ""
    """What the event means for the business."""
    key_event: bool = False
    """Mark as a GA4 key event (formerly "conversion")."""
    before_consent: bool = False
    """May be sent before the visitor consents to analytics cookies. Under GA4's consent mode such events
    arrive as cookieless pings: no `user_pseudo_id`, no session, so no KPI counts their users or sessions."""
    params: dict[str, ParamSpec] = Field(default_factory=dict)
    """The params it carries, by name (GA4's documented params of built-in events are included already)."""


class UserPropertySpec(Strict):
    """A GA4 user property."""

    type: Literal["string", "integer", "number", "boolean"] = "string"
    """`string`, `integer`, `number` or `boolean`."""
    description: str = ""
    """What the value means."""
    enum: list[str] | None = None
    """The only values allowed (each at most 36 characters)."""
    pii: bool | PiiKind = False
    """Whether the value identifies a person; GA4's policy forbids sending personal data."""


class EventsCatalog(Strict):
    """`kpis/events.yaml`: the events (and user properties) the site sends."""

    version: Literal[1]
    """The file format version. Always `1` for now."""
    events: dict[str, EventSpec] = Field(default_factory=dict)
    """Every event the site sends, by name."""
    user_properties: dict[str, UserPropertySpec] = Field(default_factory=dict)
    """GA4 user properties, by name (at most 25)."""
