"""First-ever events: a measure with `first_ever: true` counts only each user's first matching event of all time.

`users_with: {event: sign_up, first_ever: true}` counts, on each day, the users whose first `sign_up` ever was
that day; a conversion whose `from` is first-ever starts each user's window once, at that event. "Matching"
means the event and its `where:` conditions: `{event: purchase, first_ever: true, where: [{param: value, gte:
100}]}` is each user's first purchase of 100 or more. Users are `user_pseudo_id`s, as everywhere else (a user
who clears cookies or changes device starts again, as in GA4's new users); events without one never count.

An event is a user's first ever when

1. the user had no matching event before `start_date`: `first_ever_<role>` holds the users who had one, read
   from the export's days before `start_date` (all of them, from the first day the export has; only the
   event's name, the user and the columns its conditions read). The warehouse's store keeps every loaded day,
   so `kpi refresh` of a later day never counts again a user whose first event was on a day refreshed
   before; and
2. it is the user's earliest matching event among the days the statement reads (ROW_NUMBER over the user's
   events, earliest timestamp first), so a user counts once over a week or a month, not once a day.

Limits: the history is what the export (or the store) holds: a user whose first event came before the export
began counts at their first event in it. Conditions on the session (`channel`, `source`, `medium`,
`campaign`, `landing_page`) cannot be worked out for the history, so `kpi validate` refuses them with
`first_ever` (KB313; a breakdown by them is fine: it describes the first event's session). On BigQuery the
history read opens every daily table before `start_date` (a few columns of them: the bytes billed grow with
the export's age).
"""

from __future__ import annotations

from sqlglot import exp

from ..plan.queries import PlanMeasure
from . import dimensions as dims
from .attribution import _start_minus
from .ctes import tag_history
from .dialects import EARLIEST_DAY, EventsRelation, ExportDateRange
from .filters import condition
from .params import as_string, param_record
from .scan import EVENTS_ALIAS, EventColumns, e


def prior_users(role: str) -> str:
    """The CTE of the users who had the `role` measure's event before `start_date`."""
    return f"first_ever_{role}"


def first_ever_ctes(m: PlanMeasure, role: str) -> list[tuple[str, exp.Select]]:
    """`first_ever_<role>_events` and `first_ever_<role>`: the users with a matching event before `start_date`."""
    cols = EventColumns()
    conditions = [condition(f, cols) for f in m.filters]
    if cols.session_columns:
        raise ValueError(f"`first_ever` cannot be narrowed by the session's {', '.join(sorted(cols.session_columns))}"
                         " (run `kpi validate`)")
    if m.event is None:
        raise ValueError("`first_ever` needs an event")
    raw = exp.select("user_pseudo_id")
    for dim, alias in cols.event_dimensions.items():
        raw = raw.select(exp.alias_(dims.export_field(dim), alias), copy=False)
    for name, alias in cols.params.items():
        raw = raw.select(exp.alias_(param_record(name), alias), copy=False)
    if cols.page_path:
        raw = raw.select(exp.alias_(dims.url_path(as_string(param_record("page_location"))), "page_path"), copy=False)
    raw = raw.from_(EventsRelation(), copy=False).where(exp.and_(
        ExportDateRange(this=exp.Literal.string(EARLIEST_DAY), expression=_start_minus(1)),
        exp.EQ(this=exp.column("event_name"), expression=exp.Literal.string(m.event)),
        exp.column("user_pseudo_id").is_(exp.null()).not_(),
    ), copy=False)
    events = f"{prior_users(role)}_events"
    users = exp.select(e("user_pseudo_id")).distinct().from_(exp.alias_(exp.to_table(events), EVENTS_ALIAS, table=True))
    if conditions:
        users = users.where(exp.and_(*conditions), copy=False)
    return [(events, tag_history(raw, "first_ever_events")),
            (prior_users(role), tag_history(users, "first_ever_users"))]


def first_only(flag: exp.Expr, role: str) -> exp.Expr:
    """`flag`, true only on each user's first flagged event, for users without one before `start_date`."""
    user = e("user_pseudo_id")
    before = user.copy().isin(query=exp.select("user_pseudo_id").from_(prior_users(role)))
    flagged_first = exp.Case(ifs=[exp.If(this=flag.copy(), true=exp.Literal.number(0))], default=exp.Literal.number(1))
    rank = exp.Window(this=exp.RowNumber(), partition_by=[user.copy()],
                      order=exp.Order(expressions=[exp.Ordered(this=flagged_first), exp.Ordered(this=e("event_timestamp"))]))
    return exp.and_(flag, user.is_(exp.null()).not_(), exp.not_(before),
                    exp.EQ(this=rank, expression=exp.Literal.number(1)))
