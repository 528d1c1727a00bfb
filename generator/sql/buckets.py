"""What a result row's `date` stands for: the day (the default), or a calendar period the rows are counted over.

Every KPI statement groups by one column, `event_day`, defined once in `scanned_events` (`scan.py`) by
`event_bucket`. Everything after the scan (sessions per day, a conversion's first `from` per day and user,
`COUNT(DISTINCT …)`, the GROUPING SETS) groups by that column, so changing what it holds changes what is
counted as one unit: with the `week` bucket a user active on Monday and Friday is one user of that week,
and a session spanning midnight is one session. No sum of days is ever involved.

| bucket | `event_day` (and the result's `date`) |
|---|---|
| `day` | the event's date (the export's `event_date`) |
| `week` | the Monday of its ISO week |
| `month`, `quarter` | the first day of its calendar month, quarter |
| `period` | `start_date`: the whole range `start_date` … `end_date` is one row per breakdown value |

Events after `end_date` (read only to complete a conversion's window) keep their own day: they start no
conversion and are never in a bucket, so the batch statement's scopes (`shared._upto`) still tell them apart.
A week or month only partly inside `start_date` … `end_date` is counted over the days inside the range.
"""

from __future__ import annotations

from typing import Literal, get_args

from sqlglot import exp

from ..plan.queries import ConversionQuery, DerivedQuery, QueryPlan

Bucket = Literal["day", "week", "month", "quarter", "period"]
BUCKETS: tuple[Bucket, ...] = get_args(Bucket)
_TRUNC_UNIT = {"week": "ISOWEEK", "month": "MONTH", "quarter": "QUARTER"}  # ISOWEEK: weeks start on Monday
DATE_FORMAT = "%Y%m%d"


def event_bucket(day: exp.Expr, event_date: exp.Expr, start: exp.Expr, end: exp.Expr,
                 bucket: Bucket = "day") -> exp.Expr:
    """The bucket of an event on the DATE `day` (`event_date` its YYYYMMDD text; `start` / `end` the range)."""
    if bucket not in BUCKETS:
        raise ValueError(f"unknown bucket {bucket!r}; use one of: {', '.join(BUCKETS)}")
    if bucket == "day":
        return day
    if bucket == "period":
        first: exp.Expr = exp.StrToDate(this=start, format=exp.Literal.string(DATE_FORMAT))
    else:
        first = exp.cast(exp.DateTrunc(this=day.copy(), unit=exp.var(_TRUNC_UNIT[bucket])), "DATE")
    in_range = exp.LTE(this=event_date, expression=end)
    return exp.Case(ifs=[exp.If(this=in_range, true=first)], default=day)


DISTINCT_KINDS = frozenset({"users", "users_with", "new_users", "sessions", "sessions_with", "engaged_sessions"})


def counts_distinct_units(plan: QueryPlan, kpi_id: str) -> bool:
    """True when the KPI counts distinct users or sessions (or a conversion of them, or a formula over such a
    KPI): its value over a period is not the sum of its days and needs its own statement with a bucket.

    Counts of events and sums of params add up across days; everything else here does not.
    """
    q = plan.kpis[kpi_id]
    if isinstance(q, DerivedQuery):
        return any(counts_distinct_units(plan, c) for c in q.components)
    return isinstance(q, ConversionQuery) or any(m.kind in DISTINCT_KINDS for m in q.measures())
