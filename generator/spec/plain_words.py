"""A KPI's definition in plain words, for `kpi explain`, the spec and the dashboard."""

from __future__ import annotations

from ..plan.formula import BinOp, Expr, Neg, Num, Ref
from ..plan.queries import ConversionQuery, DerivedQuery, KpiQuery, PlanFilter, PlanMeasure, RatioQuery

_OPS = {"equals": "is", "not_equals": "is not", "in": "is one of", "not_in": "is none of",
        "contains": "contains", "starts_with": "starts with", "gt": "is more than", "gte": "is at least",
        "lt": "is less than", "lte": "is at most"}


def describe_filter(f: PlanFilter) -> str:
    value = ", ".join(map(str, f.value)) if isinstance(f.value, tuple) else str(f.value)
    subject = f"param `{f.name}`" if f.subject == "param" else f.name.replace("_", " ")
    if f.operator == "is_set":
        if f.value:
            return f"{subject} is set (neither missing, empty nor `(not set)`)"
        return f"{subject} is not set (missing, empty or `(not set)`)"
    return f"{subject} {_OPS[f.operator]} {value}"


def _where(filters: tuple[PlanFilter, ...]) -> str:
    return f" where {' and '.join(describe_filter(f) for f in filters)}" if filters else ""


def describe_measure(m: PlanMeasure) -> str:
    """`sessions with a purchase event`, `the sum of param value of purchase events`, …"""
    w = _where(m.filters)
    if m.first_ever:
        return _first_ever(m, w)
    if m.kind == "count":
        dedupe = " (one per transaction id)" if m.dedupe_transactions else ""
        return f"the number of `{m.event}` events{w}{dedupe}"
    if m.kind == "users_with":
        return f"the users who had {_a(m.event)} event{w}"
    if m.kind == "sessions_with":
        return f"the sessions with {_a(m.event)} event{w}"
    if m.kind == "sum":
        return f"the sum of `{m.param}` over `{m.event}` events{w}" + (
            " (one per transaction id)" if m.dedupe_transactions else "")
    if m.kind == "average":
        return f"the average `{m.param}` per `{m.event}` event{w}" + (
            " (one per transaction id)" if m.dedupe_transactions else "")
    names = {"users": "all users", "sessions": "all sessions", "new_users": "new users (first visit)",
             "engaged_sessions": "engaged sessions (10 s or more, a key event, or 2+ page views)"}
    return names[m.kind] + w


def _first_ever(m: PlanMeasure, where: str) -> str:
    """A measure on each user's first matching event of all the data (`first_ever: true`)."""
    only = f", counting only `{m.event}` events{where}" if where else ""
    once = f"{only} (a user counts once, on that day, never again later)"
    if m.kind == "users_with":
        return f"the users whose first `{m.event}` event ever was on that day{once}"
    if m.kind == "sessions_with":
        return f"the sessions holding a user's first `{m.event}` event ever{once}"
    return f"the number of users' first `{m.event}` events ever{once}"


def _start(m: PlanMeasure) -> str:
    """What starts (or ends) a conversion: `an `add_to_cart` event` or `their first `sign_up` event ever`."""
    if m.first_ever:
        where = _where(m.filters)
        return f"their first `{m.event}` event ever" + (f" (of the `{m.event}` events{where})" if where else "")
    return f"{_a(m.event)} event{_where(m.filters)}"


def _formula(e: Expr) -> str:
    if isinstance(e, Ref):
        return f"`{e.kpi}`"
    if isinstance(e, Num):
        return f"{e.value:g}"
    if isinstance(e, Neg):
        return f"minus {_formula(e.operand)}"
    assert isinstance(e, BinOp)
    word = {"+": "plus", "-": "minus", "*": "times", "/": "divided by"}[e.op]
    return f"{_formula(e.left)} {word} {_formula(e.right)}"


def describe_kpi(q: KpiQuery) -> str:
    """One or two sentences a marketer can check against what they meant."""
    if isinstance(q, RatioQuery):
        text = f"{_cap(describe_measure(q.numerator))}, divided by {describe_measure(q.denominator)}"
    elif isinstance(q, ConversionQuery):
        c = q.conversion
        unit = "users" if c.per == "user" else "sessions"
        text = (f"Of the {unit} with {_start(c.from_)} on a day, the share that "
                f"had {_start(c.to)} within {window_text(c.window_seconds)} after it"
                + (" in the same session" if c.per == "session" else ""))
    elif isinstance(q, DerivedQuery):
        text = f"Computed from other KPIs: {_formula(q.formula)}"
    else:
        text = _cap(describe_measure(q.measure))
    text += ", per day."
    if q.breakdowns:
        text += " Broken down by " + _join([b.label.lower() for b in q.breakdowns]) + "."
    return text


def window_text(seconds: int) -> str:
    """`1 day`, `12 hours`, `30 minutes`."""
    for unit, n in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % n == 0:
            k = seconds // n
            return f"{k} {unit}{'s' if k != 1 else ''}"
    return f"{seconds} seconds"


def _a(event: str | None) -> str:
    """`a `purchase`` / `an `add_to_cart``."""
    article = "an" if (event or "x")[0] in "aeiou" else "a"
    return f"{article} `{event}`"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
