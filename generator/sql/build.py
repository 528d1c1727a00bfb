"""One SQL statement per KPI over the GA4 export, built as a sqlglot AST and rendered per dialect.

The statement's CTEs, in order:

1. `raw_events`, `scanned_events` (`scan.py`): the days `start_date` … `end_date` of the export, each event
   once, with the params and columns the KPI needs;
2. `session_firsts` … `sessions` (`sessions.py`), when a breakdown, condition or measure needs the session's
   source, channel, landing page or engagement;
3. `earlier_transactions`, `kept_events`, when a measure reads `purchase`: the events with each transaction id's
   duplicates removed (the earliest purchase of a transaction id wins, and an id seen on any day before
   `start_date` never counts again: `transactions.py`; purchases without an id are all kept);
4. `measure_rows`: one row per event the KPI reads, with its breakdown values and one flag (and value) per
   measure (`measures.py`); a `first_ever` measure's flag holds on each user's first event only, and its
   `first_ever_<role>` CTEs before it read who had one before `start_date` (`first_ever.py`);
5. for conversions, `conversion_starts` … `conversions` (`conversions.py`);
6. `aggregated`: per day, the total and every breakdown in one GROUP BY GROUPING SETS;

7. for a KPI that adds up (not a ratio), `data_days` and `aggregated_filled`: a total of 0 on each day with
   data but none of its events (`zero_days.py`);

and the result: `date, breakdown, breakdown_value, numerator, denominator, value` (docs/architecture.md,
"Generated SQL"). Only days without any event in the export have no row; a ratio whose denominator is 0
has none either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import assert_never

from sqlglot import exp

from ..plan.queries import (
    ConversionQuery,
    DerivedQuery,
    EventParamBreakdown,
    EventQuery,
    KpiQuery,
    PlanBreakdown,
    PlanMeasure,
    QueryPlan,
    RatioQuery,
    SimpleQuery,
)
from . import dimensions as dims
from .buckets import Bucket
from .conversions import CONVERSIONS, conversion_ctes, extension_days
from .derived import derived_query
from .dialects import Dialect, lower
from .export_shape import NEWEST, ExportShape
from .first_ever import first_ever_ctes, first_only
from .measures import aggregate, events_read, row_flag, row_value
from .params import as_string
from .scan import SCANNED, SESSIONS_ALIAS, EventColumns, e, end_date, end_date_plus, scan_ctes
from .sessions import SESSIONS, session_ctes
from .transactions import earlier_transactions, join_earlier, not_seen_before
from .zero_days import data_days, filled, filled_name

RESULT_COLUMNS = ("date", "breakdown", "breakdown_value", "numerator", "denominator", "value")
PURCHASE = "purchase"
KEPT = "kept_events"
ROWS = "measure_rows"
AGGREGATED = "aggregated"
_SAFE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_PURCHASES = "p"


def build_kpi_query(kpi_query: KpiQuery, plan: QueryPlan, bucket: Bucket = "day") -> exp.Select:
    """The KPI's statement as a dialect-neutral AST; `render_sql` (or `dialects.lower`) makes it runnable."""
    return _build(kpi_query, plan, bucket).order_by(*RESULT_COLUMNS[:3], copy=False)


def render_sql(kpi_query: KpiQuery, plan: QueryPlan, dialect: Dialect, bucket: Bucket = "day",
               export: ExportShape = NEWEST) -> str:
    """The KPI's SQL for `duckdb` or `bigquery`, with `start_date` / `end_date` ('YYYYMMDD') as parameters, for
    an export of the shape `export` (`export_shape.ERAS`).

    One row per day, or per `bucket` (`buckets.py`: week, month, quarter, or the whole range as one `period`).
    """
    return lower(build_kpi_query(kpi_query, plan, bucket), dialect, copy=False, export=export).sql(
        dialect=dialect, pretty=True)


def _build(q: KpiQuery, plan: QueryPlan, bucket: Bucket = "day") -> exp.Select:
    if isinstance(q, DerivedQuery):
        return derived_query(q, plan, lambda component: _build(component, plan, bucket))
    return _measure_query(q, bucket)


def _roles(q: EventQuery) -> list[tuple[str, PlanMeasure]]:
    match q:
        case SimpleQuery(measure=measure):
            return [("measure", measure)]
        case RatioQuery(numerator=numerator, denominator=denominator):
            return [("numerator", numerator), ("denominator", denominator)]
        case ConversionQuery(conversion=conversion):
            return [("from", conversion.from_), ("to", conversion.to)]
    assert_never(q)


@dataclass
class MeasureParts:
    """A measure KPI's own CTEs, under their standard names, reading the shared ones.

    `ctes` read `scanned_events`, `kept_events` (when `dedupe`) and `sessions` (when `reads_sessions`);
    the per-KPI statement puts those before them, the batch statement (`batch.py`) shares them between KPIs.
    """

    query: EventQuery
    ctes: list[tuple[str, exp.Expr]]
    rows: exp.Select  # the `measure_rows` body: breakdown values `by_…`, flags `is_<role>`, values `<role>_value`
    roles: list[tuple[str, PlanMeasure]]
    breakdowns: list[tuple[str, str]]  # (breakdown name, its column in `measure_rows`)
    is_ratio: bool
    dedupe: bool
    events: set[str] | None  # the event names the KPI reads (None: every event)
    extension: int  # days after end_date the KPI reads (a conversion's window)
    reads_sessions: bool


def measure_parts(q: EventQuery, cols: EventColumns) -> MeasureParts:
    """The KPI's `measure_rows` … `aggregated`; the columns they read are recorded in `cols`."""
    roles = _roles(q)
    measures = [m for _, m in roles]
    events = events_read(measures)
    cols.reading = frozenset(events) if events is not None else None

    rows = exp.select(*(e(c) for c in ("event_day", "event_timestamp", "user_pseudo_id", "session_key")))
    breakdowns = [(b.name, _breakdown_alias(b, i)) for i, b in enumerate(q.breakdowns, start=1)]
    for b, (_, alias) in zip(q.breakdowns, breakdowns, strict=True):
        rows = rows.select(exp.alias_(_breakdown_value(b, cols), alias), copy=False)
    counts_every_row = False
    history: list[tuple[str, exp.Expr]] = []  # first-ever measures: who had the event before start_date
    for role, m in roles:
        flag = row_flag(m, cols)
        counts_every_row |= flag == exp.true()
        if role == "from":  # conversions start only in the requested days (the scan reads a few more)
            flag = exp.and_(flag, exp.LTE(this=e("event_date"), expression=end_date()))
        if m.first_ever:
            history += first_ever_ctes(m, role)
            flag = first_only(flag, role)
        rows = rows.select(exp.alias_(flag, f"is_{role}"), copy=False)
        value = row_value(m, cols)
        if value is not None:
            rows = rows.select(exp.alias_(value, f"{role}_value"), copy=False)

    cols.reading = None
    dedupe = any(m.dedupe_transactions for m in measures)
    source = KEPT if dedupe else SCANNED
    rows = rows.from_(exp.alias_(exp.to_table(source), "e", table=True), copy=False)
    reads_sessions = any(c.table == SESSIONS_ALIAS for c in rows.find_all(exp.Column))
    if reads_sessions:
        on = exp.EQ(this=exp.column("session_key", table=SESSIONS_ALIAS), expression=e("session_key"))
        sessions = exp.alias_(exp.to_table(SESSIONS), SESSIONS_ALIAS, table=True)
        rows = rows.join(sessions, on=on, join_type="left", copy=False)
    if events is not None:
        rows = rows.where(e("event_name").isin(*(exp.Literal.string(n) for n in sorted(events))), copy=False)
    ctes: list[tuple[str, exp.Expr]] = [*history, (ROWS, rows)]

    aliases = [alias for _, alias in breakdowns]
    conversion = q.conversion if isinstance(q, ConversionQuery) else None
    if conversion is not None:
        ctes += conversion_ctes(conversion, ROWS, aliases)
        numerator: exp.Expr = exp.Sum(this=exp.column("converted"))
        denominator: exp.Expr | None = exp.Count(this=exp.Star())
        grouped = CONVERSIONS
        counted = None
    else:
        numerator, denominator = _measure_aggregates(roles)
        grouped = ROWS
        # rows no measure counts make no groups (a breakdown value with only non-matching events)
        counted = None if counts_every_row else exp.or_(*(exp.column(f"is_{role}") for role, _ in roles))
    ctes.append((AGGREGATED, _aggregated(grouped, breakdowns, numerator, denominator, counted)))
    extension = extension_days(conversion.window_seconds) if conversion is not None else 0
    return MeasureParts(q, ctes, rows, roles, breakdowns, denominator is not None, dedupe, events, extension,
                        reads_sessions)


def last_day(extension: int) -> exp.Expr:
    """The last day a KPI reading `extension` days after `end_date` scans."""
    return end_date_plus(extension) if extension else end_date()


def _measure_query(q: EventQuery, bucket: Bucket = "day") -> exp.Select:
    cols = EventColumns()
    parts = measure_parts(q, cols)
    cols.transaction_id = parts.dedupe
    ctes: list[tuple[str, exp.Expr]] = [*scan_ctes(cols, last_day(parts.extension), bucket=bucket)]
    if parts.reads_sessions:
        ctes += session_ctes(cols.session_columns)
    if parts.dedupe:
        ctes += [earlier_transactions(), (KEPT, kept_events(parts.events))]
    ctes += parts.ctes
    source = AGGREGATED
    if not parts.is_ratio:  # a day with data but none of the KPI's events counts 0 (`zero_days.py`)
        source = filled_name(AGGREGATED)
        ctes += [*data_days(bucket), (source, filled(AGGREGATED))]

    select = result(is_ratio=parts.is_ratio, source=source)
    for name, body in ctes:
        select = select.with_(name, as_=body, copy=False)
    return select


def _measure_aggregates(roles: list[tuple[str, PlanMeasure]]) -> tuple[exp.Expr, exp.Expr | None]:
    aggregates = {role: aggregate(m, f"is_{role}", f"{role}_value") for role, m in roles}
    if "measure" in aggregates:
        return aggregates["measure"]  # an average brings its own denominator (the count)
    return aggregates["numerator"][0], aggregates["denominator"][0]


def _breakdown_alias(b: PlanBreakdown, position: int) -> str:
    name = f"param_{b.param}" if isinstance(b, EventParamBreakdown) else b.name
    return f"by_{name}" if _SAFE_NAME.fullmatch(name) else f"by_{position}"


def _breakdown_value(b: PlanBreakdown, cols: EventColumns) -> exp.Expr:
    if isinstance(b, EventParamBreakdown):
        return dims.label(as_string(cols.param(b.param)))
    return cols.dimension(b.dimension)


FIRST_PURCHASE_ORDER = ("event_date", "event_timestamp")
"""Which purchase of a transaction id counts: the first by day, then by time. Days first, as the ids seen before a
range are found by day (`transactions.py`): ordered by time alone, a copy on a later day with an earlier time (a
client's clock, a property's time zone changed) counted where a range held both days, and its first day's where
a range held only one, so the numbers depended on how the days were cut into statements."""


def kept_events(events: set[str] | None, source: str = SCANNED) -> exp.Expr:
    """The scanned events with every transaction id's later duplicates left out, those before `start_date`
    included (`transactions.py`; the statement needs the `earlier_transactions` CTE)."""
    is_purchase = exp.EQ(this=exp.column("event_name"), expression=exp.Literal.string(PURCHASE))

    def of(name: str) -> exp.Column:
        return exp.column(name, table=_PURCHASES)

    first_of_id = exp.EQ(
        this=exp.Window(this=exp.RowNumber(), partition_by=[of("transaction_id")],
                        order=exp.Order(expressions=[exp.Ordered(this=of(c)) for c in FIRST_PURCHASE_ORDER])),
        expression=exp.Literal.number(1),
    )
    # an id a purchase carried before `start_date` never counts again (`transactions.py`)
    purchases = exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier(_PURCHASES))).from_(
        exp.alias_(exp.to_table(source), _PURCHASES, table=True))
    purchases = join_earlier(purchases, _PURCHASES).where(exp.and_(
        exp.EQ(this=of("event_name"), expression=exp.Literal.string(PURCHASE)), not_seen_before())).qualify(
        exp.or_(of("transaction_id").is_(exp.null()), first_of_id))
    if events is not None and events <= {PURCHASE}:
        return purchases
    others = exp.select("*").from_(source).where(exp.not_(is_purchase.copy()))
    return exp.union(others, purchases, distinct=False)


def _aggregated(source: str, breakdowns: list[tuple[str, str]], numerator: exp.Expr,
                denominator: exp.Expr | None, where: exp.Expr | None) -> exp.Select:
    """Per day: the total (breakdown '') and each breakdown's values, in one GROUP BY GROUPING SETS."""
    select = exp.select("event_day")
    if breakdowns:
        def which(then: list[exp.Expr]) -> exp.Expr:
            return exp.Case(
                ifs=[exp.If(this=exp.EQ(this=exp.Grouping(expressions=[exp.column(alias)]),
                                        expression=exp.Literal.number(0)), true=value)
                     for (_, alias), value in zip(breakdowns, then, strict=True)],
                default=exp.Literal.string(""),
            )

        select = select.select(
            exp.alias_(which([exp.Literal.string(name) for name, _ in breakdowns]), "breakdown"),
            exp.alias_(which([exp.column(alias) for _, alias in breakdowns]), "breakdown_value"),
        )
        sets = [exp.Tuple(expressions=[exp.column("event_day")])]
        sets += [exp.Tuple(expressions=[exp.column("event_day"), exp.column(alias)]) for _, alias in breakdowns]
        select.set("group", exp.Group(expressions=[exp.GroupingSets(expressions=sets)]))
    else:
        select = select.select(exp.alias_(exp.Literal.string(""), "breakdown"),
                               exp.alias_(exp.Literal.string(""), "breakdown_value")).group_by("event_day")
    select = select.select(exp.alias_(numerator, "numerator"),
                           exp.alias_(denominator if denominator is not None else exp.null(), "denominator"))
    select = select.from_(source, copy=False)
    return select.where(where) if where is not None else select


def result(is_ratio: bool, source: str = AGGREGATED) -> exp.Select:
    numerator = exp.cast(exp.column("numerator"), "DOUBLE")
    value = (exp.Div(this=numerator.copy(), expression=exp.Nullif(this=exp.column("denominator"),
                                                                  expression=exp.Literal.number(0)))
             if is_ratio else numerator.copy())
    return exp.select(
        exp.alias_(exp.column("event_day"), "date"), "breakdown", "breakdown_value",
        exp.alias_(numerator, "numerator"),
        exp.alias_(exp.cast(exp.column("denominator"), "DOUBLE"), "denominator"),
        exp.alias_(value, "value"),
    ).from_(source)
