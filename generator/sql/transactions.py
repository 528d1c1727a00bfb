"""Purchases deduplicated across the whole history: a transaction id seen on an earlier day never counts again.

GA4 counts one purchase (and its revenue) per transaction id (ga4.md §10). A reloaded thank-you page can send
the same id days later, so deduplicating only among the days a statement reads would count it again whenever
the range starts after the id's first day (an incremental `kpi refresh`, `kpi generate`'s SQL run over last
week). Every statement that reads `purchase` therefore also reads, from the export itself, the transaction ids
of every day before `start_date` (`earlier_transactions`: two columns, `event_name` and
`ecommerce.transaction_id`, of the purchases only), and a purchase whose id is among them is left out; inside
the range the earliest purchase of an id wins, by day then by time (`build.FIRST_PURCHASE_ORDER`, used by
`build.kept_events` and `rollup.flagged_events`).

So the SQL needs nothing but the export and is right for any date range, on a raw export as on the warehouse.
A warehouse refresh, which has each id's first day already, gives the statements those instead, one row per id
(`export_shape.FIRST_PURCHASES`): the same ids and first days, without reading every purchase of the history.
Limits, stated: it reads every earlier day of the export (on BigQuery those two columns of every daily table
are billed: about 20 bytes per event for `event_name` plus the id of each purchase); an id whose first day is
no longer in the export (tables expired or deleted) counts again; ids are compared as text after GA4's
placeholders for "no id" (empty, `(not set)`) are taken as no id. GA4 itself deduplicates an id only for the
same user; here an id counts once whoever sends it (one order id sent by two users is a tracking bug).

Purchases without a transaction id cannot be deduplicated: by default each counts (as GA4 counts them); a KPI
with `purchases_without_transaction_id: skip` leaves them out (`plan.PlanMeasure.without_transaction_id`).
"""

from __future__ import annotations

from sqlglot import exp

from .ctes import tag_history
from .dialects import EARLIEST_DAY, EventsRelation, ExportDateRange
from .dimensions import NOT_SET

PURCHASE = "purchase"
EARLIER = "earlier_transactions"
SEEN = "seen"
_DATE_FORMAT = "%Y%m%d"


def transaction_id(column: exp.Expr) -> exp.Expr:
    """The purchase's transaction id, NULL for GA4's placeholders of a missing id (empty, `(not set)`)."""
    return exp.Nullif(this=exp.Nullif(this=column, expression=exp.Literal.string("")),
                      expression=exp.Literal.string(NOT_SET))


def _day_before_start() -> exp.Expr:
    fmt = exp.Literal.string(_DATE_FORMAT)
    moved = exp.DateSub(this=exp.StrToDate(this=exp.Placeholder(this="start_date"), format=fmt),
                        expression=exp.Literal.number(1), unit=exp.var("DAY"))
    return exp.TimeToStr(this=moved, format=fmt.copy())


def earlier_transactions() -> tuple[str, exp.Select]:
    """`earlier_transactions`: every transaction id a purchase carried on a day before `start_date`."""
    tid = transaction_id(exp.Dot(this=exp.column("ecommerce"), expression=exp.to_identifier("transaction_id")))
    body = (exp.select(exp.alias_(tid, "transaction_id")).distinct()
            .from_(EventsRelation(first_purchases=exp.true()))  # one row per id where a refresh has them
            .where(ExportDateRange(this=exp.Literal.string(EARLIEST_DAY), expression=_day_before_start()))
            .where(exp.EQ(this=exp.column("event_name"), expression=exp.Literal.string(PURCHASE)))
            .where(tid.copy().is_(exp.null()).not_()))
    return EARLIER, tag_history(body, "transactions")


def join_earlier(select: exp.Select, events: str) -> exp.Select:
    """`select` (reading the events as `events`) with each event's id among the `earlier_transactions` as
    `seen.transaction_id` (NULL: a new id, or no id)."""
    on = exp.EQ(this=exp.column("transaction_id", table=SEEN),
                expression=exp.column("transaction_id", table=events))
    return select.join(exp.alias_(exp.to_table(EARLIER), SEEN, table=True), on=on, join_type="left", copy=False)


def not_seen_before() -> exp.Expr:
    """True for an event whose transaction id no purchase carried before `start_date` (after `join_earlier`)."""
    return exp.column("transaction_id", table=SEEN).is_(exp.null())
