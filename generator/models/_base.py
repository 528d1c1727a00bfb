"""The base every KPI-file model shares: frozen, strict, unknown keys rejected."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

ID_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"


class Strict(BaseModel):
    """Frozen, strict, and no unknown keys: a typo is an error, never silently ignored."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        populate_by_name=True,
        use_attribute_docstrings=True,
    )
