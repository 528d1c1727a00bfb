"""Event params as typed values: GA4 puts a number in whichever of its value fields the tag chose.

A param's `value` record has `string_value`, `int_value`, `float_value` and `double_value`; a whole number
such as 25 usually arrives in `int_value`, a price in `double_value`, and a badly written tag sends
numbers as strings (ga4.md §10). Each reader here COALESCEs the fields in that order, casting as needed.
"""

from __future__ import annotations

from sqlglot import exp

from .dialects import EventParam

_TRUE_STRINGS = ("true", "1", "yes")
_FALSE_STRINGS = ("false", "0", "no")


def param_record(key: str) -> exp.Expr:
    """The `value` record of the event param `key` on the current event (NULL when the event lacks it)."""
    return EventParam(this=exp.Literal.string(key))


def _field(record: exp.Expr, name: str) -> exp.Expr:
    return exp.Dot(this=record.copy(), expression=exp.to_identifier(name))


def as_number(record: exp.Expr) -> exp.Expr:
    """DOUBLE from whichever field holds it; a string that is not a number gives NULL."""
    return exp.func(
        "COALESCE",
        exp.cast(_field(record, "int_value"), "DOUBLE"),
        _field(record, "float_value"),
        _field(record, "double_value"),
        exp.TryCast(this=_field(record, "string_value"), to=exp.DataType.build("DOUBLE")),
    )


def as_integer(record: exp.Expr) -> exp.Expr:
    """BIGINT: `int_value`, else a whole number sent as a string (ids such as `ga_session_id`)."""
    return exp.func(
        "COALESCE",
        _field(record, "int_value"),
        exp.TryCast(this=_field(record, "string_value"), to=exp.DataType.build("BIGINT")),
    )


def as_string(record: exp.Expr) -> exp.Expr:
    """VARCHAR: `string_value`, else the number written out (a numeric id used as a label)."""
    return exp.func(
        "COALESCE",
        _field(record, "string_value"),
        exp.cast(_field(record, "int_value"), "VARCHAR"),
        exp.cast(_field(record, "float_value"), "VARCHAR"),
        exp.cast(_field(record, "double_value"), "VARCHAR"),
    )


def session_value(param: str, record: exp.Expr) -> exp.Expr:
    """What every statement reads of the session param `param` (`export_shape.SESSION_PARAMS`) from its `value`
    record `record`: `ga_session_id` as a whole number (`as_integer`), whether `session_engaged` is '1' (GA4
    sends the string; `as_string`)."""
    if param == "ga_session_id":
        return as_integer(record)
    if param == "session_engaged":
        return exp.EQ(this=as_string(record), expression=exp.Literal.string("1"))
    raise ValueError(f"no session value of the param {param!r}")


def as_boolean(record: exp.Expr) -> exp.Expr:
    """BOOLEAN: GA4 has no boolean type, so `1`/`0` numbers and `true`/`false` strings both count."""
    text = exp.Lower(this=_field(record, "string_value"))
    return exp.func(
        "COALESCE",
        exp.NEQ(this=_field(record, "int_value"), expression=exp.Literal.number(0)),
        exp.NEQ(this=_field(record, "double_value"), expression=exp.Literal.number(0)),
        exp.NEQ(this=_field(record, "float_value"), expression=exp.Literal.number(0)),
        exp.Case(
            ifs=[
                exp.If(this=text.isin(*_TRUE_STRINGS), true=exp.true()),
                exp.If(this=text.copy().isin(*_FALSE_STRINGS), true=exp.false()),
            ]
        ),
    )


def typed(record: exp.Expr, value_type: str | None) -> exp.Expr:
    """The param as the type the events catalog declares (`string` when it declares none)."""
    if value_type in ("integer", "number"):
        return as_number(record)
    if value_type == "boolean":
        return as_boolean(record)
    return as_string(record)
