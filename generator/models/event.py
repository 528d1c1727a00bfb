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
    description: str = ""
    enum: list[str | int] | None = None
    """The only values allowed."""
    pattern: str | None = None
    """A regular expression every value must match."""
    min: int | float | None = None
    max: int | float | None = None
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
    key_event: bool = False
    """Mark as a GA4 key event (formerly "conversion")."""
    params: dict[str, ParamSpec] = Field(default_factory=dict)


class UserPropertySpec(Strict):
    """A GA4 user property."""

    type: Literal["string", "integer", "number", "boolean"] = "string"
    description: str = ""
    enum: list[str] | None = None
    pii: bool | PiiKind = False


class EventsCatalog(Strict):
    """`kpis/events.yaml`: the events (and user properties) the site sends."""

    version: Literal[1]
    events: dict[str, EventSpec] = Field(default_factory=dict)
    user_properties: dict[str, UserPropertySpec] = Field(default_factory=dict)
