"""Where each built-in dimension (`generator/ga4/dimensions.py`) lives in the GA4 export.

Event-scoped dimensions are read from the event itself (`device.category`, `geo.country`, …);
session-scoped ones (`channel`, `source`, `medium`, `campaign`, `landing_page`) from the session table
(`sessions.py`), so that they describe the session's first event the way GA4 does.
"""

from __future__ import annotations

from sqlglot import exp

from ..ga4.dimensions import DIMENSIONS
from .dialects import EventField

EVENT_FIELDS: dict[str, tuple[str, ...]] = {
    "device_category": ("device", "category"),
    "operating_system": ("device", "operating_system"),
    "browser": ("device", "browser"),
    "language": ("device", "language"),
    "country": ("geo", "country"),
    "region": ("geo", "region"),
    "city": ("geo", "city"),
    "platform": ("platform",),
}
"""Event-scoped dimensions read from an export column (a STRUCT field or a plain column)."""

SESSION_DIMENSIONS = ("channel", "source", "medium", "campaign", "landing_page")
"""Dimensions of the session, taken from the session table."""

DIRECT = {"source": "(direct)", "medium": "(none)", "campaign": "(direct)", "channel": "Direct"}
"""A session without any traffic source: what GA4 calls direct traffic."""

PAGE_PATH = "page_path"
"""Event-scoped, from the event's `page_location` param."""

NOT_SET = "(not set)"

# `https://shop.example/a/b?q=1#x` → `/a/b` (RE2, the same in DuckDB and BigQuery).
_PATH_PATTERN = r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*)?([^?#]*)"


def export_field(name: str) -> exp.Expr:
    """The export column (or STRUCT field) that holds an event-scoped dimension (`dialects.EventField`: the
    warehouse's own column where it keeps one)."""
    return EventField(this=exp.Literal.string(".".join(EVENT_FIELDS[name])))


def url_path(url: exp.Expr) -> exp.Expr:
    """The path of a page URL, `/` for the site's root; NULL when there is no URL."""
    path = exp.RegexpExtract(this=url, expression=exp.Literal.string(_PATH_PATTERN), group=exp.Literal.number(1))
    return exp.Case(
        ifs=[exp.If(this=exp.not_(url.copy().is_(exp.null())),
                    true=exp.func("COALESCE", exp.Nullif(this=path, expression=exp.Literal.string("")),
                                  exp.Literal.string("/")))]
    )


def label(value: exp.Expr) -> exp.Expr:
    """A dimension value as GA4 shows it: missing or empty values become `(not set)`."""
    return exp.func("COALESCE", exp.Nullif(this=value, expression=exp.Literal.string("")),
                    exp.Literal.string(NOT_SET))


def check_known(name: str) -> None:
    """Every dimension GA4 knows must have a place in the export (a test keeps these two lists in step)."""
    if name not in DIMENSIONS or not (name in EVENT_FIELDS or name in SESSION_DIMENSIONS or name == PAGE_PATH):
        known = ", ".join(sorted(DIMENSIONS))
        raise ValueError(f"unknown dimension `{name}`; known dimensions: {known}")
