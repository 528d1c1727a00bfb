"""What each kind of measure counts: a flag and a value per event row, and an aggregate per day.

Every measure of a KPI is computed in the same pass over the same rows: a row flag `is_<role>` says
whether the event counts for the measure (its event and conditions), and the aggregate counts, adds or
distinct-counts the flagged rows. So a ratio's numerator and denominator, and a conversion's `from` and
`to`, never need a second read of the export.

How GA4's numbers are matched (ga4.md §10):

- sessions: distinct (`user_pseudo_id`, `ga_session_id`) pairs with *any* event that day, not only those with
  a `session_start` row (GA4 starts a session with `session_start`). Chosen so that sessions whose
  `session_start` is not among the rows read still count: one whose first hit was dropped (consent, ad
  blockers), or one that began before midnight and goes on that day. They had activity that day, and a ratio
  per session (sessions with a purchase / sessions) needs them in its denominator, or a day could have more
  sessions with a purchase than sessions. A session that spans midnight counts on both days.
- users: distinct `user_pseudo_id` with any event that day; new users: distinct users with a `first_visit`.
- engaged sessions: sessions (as above) that the session table marks engaged.
- purchases: deduplicated by transaction id before any of this (`build.py`).
"""

from __future__ import annotations

from sqlglot import exp

from ..plan.queries import PlanMeasure
from .dialects import StableSum
from .filters import condition
from .params import as_number
from .scan import EventColumns, e

FIRST_VISIT = "first_visit"
EVENT_KINDS = ("count", "users_with", "sessions_with", "sum", "average")


def events_read(measures: list[PlanMeasure]) -> set[str] | None:
    """The event names the measures look at, or None when one of them looks at every event."""
    names: set[str] = set()
    for m in measures:
        if m.event is not None:
            names.add(m.event)
        elif m.kind == "new_users":
            names.add(FIRST_VISIT)
        else:
            return None
    return names


def row_flag(m: PlanMeasure, cols: EventColumns) -> exp.Expr:
    """True for the event rows the measure counts."""
    parts: list[exp.Expr] = []
    if m.event is not None:
        parts.append(exp.EQ(this=e("event_name"), expression=exp.Literal.string(m.event)))
    elif m.kind == "new_users":
        parts.append(exp.EQ(this=e("event_name"), expression=exp.Literal.string(FIRST_VISIT)))
    elif m.kind == "engaged_sessions":
        parts.append(exp.EQ(this=cols.session_engaged(), expression=exp.Literal.number(1)))
    parts.extend(condition(f, cols) for f in m.filters)
    if m.skip_without_transaction_id:  # `purchases_without_transaction_id: skip` (transactions.py)
        parts.append(e("transaction_id").is_(exp.null()).not_())
    if not parts:
        return exp.true()
    return exp.and_(*parts) if len(parts) > 1 else parts[0]


def row_value(m: PlanMeasure, cols: EventColumns) -> exp.Expr | None:
    """The number a sum or an average adds up, for each event row."""
    if m.kind in ("sum", "average"):
        if m.param is None:
            raise ValueError(f"a `{m.kind}` measure needs a param")
        return as_number(cols.param(m.param))
    return None


def aggregate(m: PlanMeasure, flag: str, value: str | None) -> tuple[exp.Expr, exp.Expr | None]:
    """(numerator, denominator) over a day's rows; the denominator only for an average (sum / count)."""

    def when(then: exp.Expr) -> exp.Expr:
        return exp.Case(ifs=[exp.If(this=exp.column(flag), true=then)])

    if m.kind == "count":
        return exp.Count(this=when(exp.Literal.number(1))), None
    if m.unit == "user":
        return exp.Count(this=exp.Distinct(expressions=[when(exp.column("user_pseudo_id"))])), None
    if m.unit == "session":
        return exp.Count(this=exp.Distinct(expressions=[when(exp.column("session_key"))])), None
    assert value is not None
    total = StableSum(this=when(exp.column(value)))
    if m.kind == "sum":
        return exp.func("COALESCE", total, exp.Literal.number(0)), None
    return total, exp.Count(this=when(exp.column(value)))
