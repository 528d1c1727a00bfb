"""The distinct values a dimension or an event param takes in the export: what `kpi refresh` and
`kpi validate --db` check a KPI file's filter values against (`generator/rules/data_values.py`).

Built from the same expressions as a KPI's breakdowns (`scan.EventColumns.dimension`, the session table
with GA4's channel rules and last-click attribution, `(not set)` for a missing value), so a value this
query returns is exactly a value a filter or breakdown can meet. Parameters `start_date`, `end_date` as
for every KPI query; at most `limit` rows (the caller asks for one more than it keeps, to know it stopped).

It is the batch statement's scan and session table (`batch=True`: the session key a STRUCT in DuckDB, GA4's
channel rules once per source, medium and campaign). A value of the session (channel, landing page, …)
joins each session once per day to the session table, not each of its events: at 5M events the channel's
values per day went from 17.7 to 8.7 CPU s, the same rows.
"""

from __future__ import annotations

from sqlglot import exp

from ..rules.value_uses import Subject
from . import dimensions as dims
from .dialects import Dialect, lower
from .export_shape import NEWEST, ExportShape
from .params import as_string
from .scan import SCANNED, SESSIONS_ALIAS, EventColumns, e, end_date, scan_ctes
from .sessions import SESSIONS, session_ctes


def build_values_query(subject: Subject, limit: int, per_day: bool = False) -> exp.Select:
    """`SELECT DISTINCT value …` for one dimension, or one event's param, over `start_date` … `end_date`.

    `per_day`: `(event_date, value)` rows instead, at most `limit` values each day (the warehouse keeps each
    loaded day's values, so a refresh reads only the days it has not seen: `warehouse/value_findings.py`)."""
    cols = EventColumns()
    if subject.kind == "dimension":
        value = cols.dimension(subject.name)
    else:
        value = dims.label(as_string(cols.param(subject.name)))
    events: exp.Expr = exp.to_table(SCANNED)
    of_event = None if subject.event is None else exp.EQ(this=exp.column("event_name"),
                                                          expression=exp.Literal.string(subject.event))
    per_session = bool(cols.session_columns) and {c.name for c in value.find_all(exp.Column)
                                                  if c.table == "e"} <= {"session_key"}
    if per_session:  # a value of the session: each session once a day, not each of its events, meets the table
        events = exp.Subquery(this=exp.select("event_date", "session_key").distinct().from_(SCANNED).where(
            of_event, copy=False))
        of_event = None
    select = exp.select(exp.alias_(value, "value")).distinct().from_(exp.alias_(events, "e", table=True))
    # the batch statement's forms: the session key a STRUCT in DuckDB, the channel rules once per source
    ctes: list[tuple[str, exp.Query]] = [*scan_ctes(cols, end_date(), batch=True)]
    if cols.session_columns:
        ctes += session_ctes(cols.session_columns, channel_per_source=True, batch=True)
        on = exp.EQ(this=exp.column("session_key", table=SESSIONS_ALIAS), expression=e("session_key"))
        select = select.join(exp.alias_(exp.to_table(SESSIONS), SESSIONS_ALIAS, table=True), on=on, join_type="left")
    if of_event is not None:
        select = select.where(of_event.transform(lambda n: e(n.name) if isinstance(n, exp.Column) else n))
    for name, body in ctes:
        select = select.with_(name, as_=body, copy=False)
    if per_day:
        day = e("event_date")
        rank = exp.Window(this=exp.RowNumber(), partition_by=[day.copy()], order=exp.Order(
            expressions=[exp.Ordered(this=exp.column("value"))]))
        select.set("distinct", None)
        select = select.select(exp.alias_(day.copy(), "event_date"), append=False).select(
            exp.alias_(value.copy(), "value")).group_by(exp.column("event_date"), exp.column("value")).qualify(
            exp.LTE(this=rank, expression=exp.Literal.number(limit)))
        return select.order_by("event_date", "value")
    return select.order_by("value").limit(limit)


def render_values_sql(subject: Subject, dialect: Dialect, limit: int, export: ExportShape = NEWEST,
                      per_day: bool = False) -> str:
    """The query for `duckdb` or `bigquery` (see `build_values_query`)."""
    return lower(build_values_query(subject, limit, per_day), dialect, copy=False, export=export).sql(
        dialect=dialect, pretty=True)
