"""A KPI's conditions (`where:`) as SQL: the marketer's values become literal nodes, never SQL text.

Param conditions compare the param typed as the events catalog declares it (or as the value is
written, for an undeclared param); dimension conditions compare the dimension exactly as breakdowns show
it, so `{dimension: country, equals: "(not set)"}` matches what the breakdown calls `(not set)`.
`not_equals` and `not_in` keep events without the param, as GA4's `notExpression` does. `is_set` asks whether
there is a value at all: a missing, empty or `(not set)` value is not set, as in a breakdown.
String comparisons are case-sensitive.
"""

from __future__ import annotations

import math

from sqlglot import exp

from ..plan.queries import PlanFilter
from . import dimensions as dims
from .params import as_number, as_string, typed
from .scan import EventColumns

Scalar = str | int | float | bool
NUMERIC_OPERATORS = ("gt", "gte", "lt", "lte")
TEXT_OPERATORS = ("contains", "starts_with")


def condition(f: PlanFilter, cols: EventColumns) -> exp.Expr:
    """The SQL condition an event row must meet."""
    if f.operator == "is_set":
        return is_set(f, cols)
    kind = _comparison_type(f)
    value = _subject(f, cols, kind)
    values = f.value if isinstance(f.value, tuple) else (f.value,)
    literals = [literal(v, kind) for v in values]
    op = f.operator
    if op == "equals":
        return exp.EQ(this=value, expression=literals[0])
    if op == "not_equals":
        return exp.NullSafeNEQ(this=value, expression=literals[0])
    if op == "in":
        return value.isin(*literals) if literals else exp.false()
    if op == "not_in":
        if not literals:
            return exp.true()
        return exp.Paren(this=exp.or_(value.is_(exp.null()), exp.not_(value.copy().isin(*literals))))
    if op == "contains":
        return exp.GT(this=exp.StrPosition(this=value, substr=literals[0]), expression=exp.Literal.number(0))
    if op == "starts_with":
        return exp.StartsWith(this=value, expression=literals[0])
    if op in NUMERIC_OPERATORS:
        node = {"gt": exp.GT, "gte": exp.GTE, "lt": exp.LT, "lte": exp.LTE}[op]
        return node(this=value, expression=literals[0])
    raise ValueError(f"unknown filter operator `{op}`")


def is_set(f: PlanFilter, cols: EventColumns) -> exp.Expr:
    """`is_set: true`: the value is there: not missing, not empty, not `(not set)` (GA4's placeholder, which the
    export also carries, e.g. as a transaction id). A number counts as set. `is_set: false`: the opposite."""
    text = cols.dimension(f.name) if f.subject == "dimension" else dims.label(as_string(cols.param(f.name)))
    missing = exp.Literal.string(dims.NOT_SET)
    if f.value is True:
        return exp.NEQ(this=text, expression=missing)
    return exp.EQ(this=text, expression=missing)


def _comparison_type(f: PlanFilter) -> str:
    if f.operator in NUMERIC_OPERATORS:
        return "number"
    if f.operator in TEXT_OPERATORS or f.subject == "dimension":
        return "string"
    if f.value_type != "string":
        return "number" if f.value_type == "integer" else f.value_type
    first = f.value[0] if isinstance(f.value, tuple) and f.value else f.value
    if isinstance(first, bool):
        return "boolean"
    if isinstance(first, int | float):
        return "number"
    return "string"


def _subject(f: PlanFilter, cols: EventColumns, kind: str) -> exp.Expr:
    if f.subject == "dimension":
        text = cols.dimension(f.name)
        return exp.TryCast(this=text, to=exp.DataType.build("DOUBLE")) if kind == "number" else text
    record = cols.param(f.name)
    if kind == "number":
        return as_number(record)
    if kind == "string":
        return as_string(record)
    return typed(record, kind)


def literal(value: Scalar, kind: str) -> exp.Expr:
    """A marketer's value as a SQL literal of the comparison's type."""
    if kind == "boolean":
        if isinstance(value, str) and value.lower() in ("true", "false"):
            value = value.lower() == "true"
        if not isinstance(value, bool):
            raise ValueError(f"{value!r} is not true or false")
        return exp.Boolean(this=value)
    if kind == "number":
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not a number")
        try:
            number = float(value) if isinstance(value, str) else value
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
        if not math.isfinite(number):
            raise ValueError(f"{value!r} is not a finite number")
        return exp.Literal.number(number)
    if isinstance(value, bool):
        return exp.Literal.string("true" if value else "false")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return exp.Literal.string(str(value))
