"""Conditions that narrow what a measure counts: on event params or on GA4 dimensions."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ._base import Strict

Scalar = str | int | float | bool

OPERATORS = ("equals", "not_equals", "in", "not_in", "contains", "starts_with", "gt", "gte", "lt", "lte",
             "is_set")


class Condition(Strict):
    """One condition: `{param: method, equals: email}` or `{dimension: country, in: [Germany, Austria]}`."""

    param: str | None = None
    """An event parameter of the measured event, e.g. `method`."""
    dimension: str | None = None
    """A built-in dimension, e.g. `country`, `device_category`, `channel`."""
    equals: Scalar | None = None
    """The value is exactly this."""
    not_equals: Scalar | None = None
    """The value is anything but this."""
    in_: list[Scalar] | None = Field(default=None, alias="in")
    """The value is one of these, e.g. `[Germany, Austria, Switzerland]` (GA4 names countries in English)."""
    not_in: list[Scalar] | None = None
    """The value is none of these."""
    contains: str | None = None
    """The text contains this, e.g. `/blog/`."""
    starts_with: str | None = None
    """The text starts with this."""
    gt: int | float | None = None
    """The number is greater than this."""
    gte: int | float | None = None
    """The number is this or greater."""
    lt: int | float | None = None
    """The number is less than this."""
    lte: int | float | None = None
    """The number is this or less."""
    is_set: bool | None = None
    """`true`: the value is there (not missing, not empty, not `(not set)`); `false`: it is not."""

    @model_validator(mode="after")
    def _one_subject_one_operator(self) -> Condition:
        if (self.param is None) == (self.dimension is None):
            raise ValueError("a condition needs exactly one of `param:` or `dimension:`")
        if len(self.operators()) != 1:
            raise ValueError(f"a condition needs exactly one comparison, one of: {', '.join(OPERATORS)}")
        return self

    @property
    def subject(self) -> tuple[Literal["param", "dimension"], str]:
        if self.param is not None:
            return "param", self.param
        assert self.dimension is not None
        return "dimension", self.dimension

    def operators(self) -> dict[str, object]:
        values = {op: getattr(self, "in_" if op == "in" else op) for op in OPERATORS}
        return {op: v for op, v in values.items() if v is not None}

    @property
    def operator(self) -> str:
        return next(iter(self.operators()))

    @property
    def value(self) -> object:
        return next(iter(self.operators().values()))
