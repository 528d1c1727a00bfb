"""Sample values of the right type for snippets, sample events and the spec's Example column."""

from __future__ import annotations

from typing import Any

from ..models.event import ParamSpec

# Placeholders for well-known GA4 params that have no `example:` in the catalog.
_KNOWN_PLACEHOLDERS: dict[str, str | int | float] = {
    "transaction_id": "T-10042", "currency": "EUR", "coupon": "SUMMER10", "method": "email",
    "search_term": "running shoes", "page_location": "https://shop.example/", "page_title": "Home",
    "page_referrer": "https://www.google.com/", "shipping_tier": "standard", "payment_type": "card",
    "item_list_id": "related_products", "item_list_name": "Related products", "content_type": "product",
    "item_id": "SKU_123", "promotion_id": "P_12", "promotion_name": "Summer sale",
}


def placeholder(name: str, p: ParamSpec) -> Any:
    """A value of the right type for snippets and sample events: the example, else a plausible one."""
    if p.type == "items":
        return [{"item_id": "SKU_123", "item_name": "Example product", "price": 10, "quantity": 1}]
    if p.example is not None and _fits_type(p.example, p.type):
        return p.example
    if p.enum:
        return p.enum[0]
    if p.type == "boolean":
        return True
    if p.type in ("integer", "number"):
        known = _KNOWN_PLACEHOLDERS.get(name)
        value: int | float = known if isinstance(known, int | float) else 1
        if p.min is not None and value < p.min:
            value = p.min
        if p.max is not None and value > p.max:
            value = p.max
        return int(value) if p.type == "integer" else value
    known = _KNOWN_PLACEHOLDERS.get(name)
    return known if isinstance(known, str) else f"your_{name}"


def _fits_type(value: Any, type_: str) -> bool:
    if type_ == "string":
        return isinstance(value, str)
    if type_ == "boolean":
        return isinstance(value, bool)
    if type_ == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_ == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return False
