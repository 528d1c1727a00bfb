"""The one read of the export: each event of the date range once, with the params the KPI needs.

`EventColumns` hands out the expressions a KPI's rows are built from (`e.param_value`, `s.channel`, …)
and records what it handed out; the scan then extracts exactly those params and columns, each once
per event, in two CTEs:

- `raw_events`: the export's columns plus one `value` record per needed param (`dialects.EventParam`);
- `scanned_events`: typed columns: the session key, the date, dimensions, the purchase's transaction id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlglot import exp

from . import dimensions as dims
from .attribution import TRAFFIC_COLUMNS, click_values, flat_clicks, last_click_values
from .buckets import Bucket, event_bucket
from .dialects import (
    ClickInput,
    EventParam,
    EventsRelation,
    ExportColumn,
    ExportDateRange,
    SessionKey,
    SessionParam,
    SessionValue,
    text_session_key,
)
from .export_shape import SESSION_PARAMS
from .params import as_string, param_record, session_value
from .transactions import transaction_id

EVENTS_ALIAS = "e"
SESSIONS_ALIAS = "s"
RAW = "raw_events"
SCANNED = "scanned_events"
EVENT_ROW = "event_row"  # an event's number in the events relation (`ExportShape.event_rows`)
DATE_FORMAT = "%Y%m%d"
_SAFE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")


def start_date() -> exp.Expr:
    """The `start_date` query parameter (`$start_date` in DuckDB, `@start_date` in BigQuery)."""
    return exp.Placeholder(this="start_date")


def end_date() -> exp.Expr:
    return exp.Placeholder(this="end_date")


def end_date_plus(days: int) -> exp.Expr:
    """`end_date` moved `days` later, still a `YYYYMMDD` string (for conversion windows)."""
    fmt = exp.Literal.string(DATE_FORMAT)
    moved = exp.DateAdd(this=exp.StrToDate(this=end_date(), format=fmt), expression=exp.Literal.number(days),
                        unit=exp.var("DAY"))
    return exp.TimeToStr(this=moved, format=fmt.copy())


def e(name: str) -> exp.Column:
    return exp.column(name, table=EVENTS_ALIAS)


@dataclass
class EventColumns:
    """The columns of an event row (alias `e`) and of its session (alias `s`) that a KPI reads."""

    params: dict[str, str] = field(default_factory=dict)  # param name → column alias
    event_dimensions: dict[str, str] = field(default_factory=dict)  # dimension → column alias
    page_path: bool = False
    session_columns: set[str] = field(default_factory=set)  # channel, source, …, landing_page, engaged
    transaction_id: bool = False
    reading: frozenset[str] | None = None  # the events the expressions being built look at (None: every event)
    param_events: dict[str, frozenset[str] | None] = field(default_factory=dict)  # param → events it is read on

    def param(self, name: str) -> exp.Expr:
        """The `value` record of the event's param `name` (type it with `params.typed`)."""
        if name not in self.params:
            safe = _SAFE_NAME.fullmatch(name) is not None
            self.params[name] = f"param_{name}" if safe else f"param_{len(self.params) + 1}"
        known = self.param_events.get(name, frozenset())
        self.param_events[name] = None if known is None or self.reading is None else known | self.reading
        return e(self.params[name])

    def dimension(self, name: str) -> exp.Expr:
        """A built-in dimension's value as GA4 shows it (`(not set)` when missing)."""
        dims.check_known(name)
        if name in dims.SESSION_DIMENSIONS:
            # The session table leaves out sessions with nothing to say (no traffic source, no page view):
            # those are direct. Events without a session id have no session: (not set).
            self.session_columns.add(name)
            value: exp.Expr = exp.column(name, table=SESSIONS_ALIAS)
            if name in dims.DIRECT:
                value = exp.Case(ifs=[exp.If(this=e("session_key").is_(exp.null()).not_(),
                                             true=exp.func("COALESCE", value, exp.Literal.string(dims.DIRECT[name])))])
            return dims.label(value)
        if name == dims.PAGE_PATH:
            self.page_path = True
            return dims.label(e("page_path"))
        self.event_dimensions.setdefault(name, f"dim_{name}")
        return dims.label(e(self.event_dimensions[name]))

    def session_engaged(self) -> exp.Expr:
        """1 when the event's session is engaged (any of its events has `session_engaged` = 1)."""
        self.session_columns.add("engaged")
        return exp.func("COALESCE", exp.column("engaged", table=SESSIONS_ALIAS), exp.Literal.number(0))


def _on_events(value: exp.Expr, events: frozenset[str]) -> exp.Expr:
    """`value` on the events named `events`, NULL on the others: `CASE WHEN event_name IN (…) THEN value END`."""
    names = [exp.Literal.string(n) for n in sorted(events)]
    return exp.Case(ifs=[exp.If(this=exp.column("event_name").isin(*names), true=value)])


def params_on_few_events(statements: Iterable[exp.Expr]) -> set[str]:
    """The params that `statements` (not yet lowered) read only on the events a batch scan names for them
    (`_on_events`), never on every event: a purchase's `value`, a lead's `lead_source`. The warehouse keeps
    such a param as a list of the event's params of that name, mostly empty (`export_shape.LISTED`)."""
    everywhere: set[str] = set()
    guarded: set[str] = set()
    for statement in statements:
        for node in statement.find_all(EventParam):
            branch = node.parent
            on_events = (isinstance(branch, exp.If) and node.arg_key == "true" and isinstance(branch.this, exp.In)
                         and isinstance(branch.this.this, exp.Column) and branch.this.this.name == "event_name")
            (guarded if on_events else everywhere).add(node.name)
    return guarded - everywhere


def event_day(bucket: Bucket = "day") -> exp.Expr:
    """An event's `event_day`, from its `event_date` (YYYYMMDD text): the DATE, or the first day of its `bucket`."""
    day = exp.StrToDate(this=exp.column("event_date"), format=exp.Literal.string(DATE_FORMAT))
    return event_bucket(day, exp.column("event_date"), start_date(), end_date(), bucket)


def scan_ctes(cols: EventColumns, last_day: exp.Expr, batch: bool = False,
              bucket: Bucket = "day", event_rows: bool = False) -> list[tuple[str, exp.Select]]:
    """`raw_events` and `scanned_events` for the days `start_date` … `last_day`.

    `event_day` is the event's date, or the first day of its `bucket` (`buckets.py`).

    For the batch statement (`batch`), a param that only some events' measures read is extracted on those
    events only (NULL on the others, which no expression reading it ever sees), so a few params of purchases
    or leads are not searched for in every page view's params; and the session key is a `SessionKey` (a
    STRUCT in DuckDB), not text. `event_rows`: with each event's `event_row` (`ExportShape.event_rows`).
    """
    cols.reading = None  # what the scan itself reads, it reads on every event
    if "landing_page" in cols.session_columns:
        cols.page_path = True
    traffic = bool(cols.session_columns & TRAFFIC_COLUMNS)
    # read for the clicks only: a `ClickInput`, which the warehouse, keeping the clicks, need not hold
    clicks_only = traffic and not cols.page_path and "page_location" not in cols.params
    # read for the session's key and engagement only: a `SessionParam`, whose value the warehouse keeps
    session_only = {p for p in SESSION_PARAMS if p not in cols.params}
    if cols.page_path or traffic:  # a landing page's path; UTM / gclid in the URL on older exports
        cols.param("page_location")
    if "engaged" in cols.session_columns:
        cols.param("session_engaged")
    cols.param("ga_session_id")
    cols.params = {"ga_session_id": cols.params.pop("ga_session_id"), **cols.params}  # first, for the reader
    raw = exp.select(*([EVENT_ROW] if event_rows else []), "event_date", "event_timestamp", "event_name",
                     "user_pseudo_id")
    for dim, alias in cols.event_dimensions.items():
        raw = raw.select(exp.alias_(dims.export_field(dim), alias), copy=False)
    if traffic:
        raw = raw.select(exp.alias_(ClickInput(this=ExportColumn(this=exp.Literal.string("collected_traffic_source"))),
                                    "collected_traffic_source"), copy=False)
        for name, value in last_click_values().items():
            raw = raw.select(exp.alias_(value, f"lc_{name}"), copy=False)
        raw = raw.select(*flat_clicks(), copy=False)
    if cols.transaction_id:
        raw = raw.select(exp.alias_(exp.Dot(this=exp.column("ecommerce"), expression=exp.to_identifier(
            "transaction_id")), "transaction_id"))
    for name, alias in cols.params.items():
        record = SessionParam(this=exp.Literal.string(name)) if name in session_only else param_record(name)
        events = cols.param_events.get(name)
        if batch and events is not None:
            record = _on_events(record, events)
        if name == "page_location" and clicks_only:
            record = ClickInput(this=record)
        raw = raw.select(exp.alias_(record, alias), copy=False)
    raw = raw.from_(EventsRelation(), copy=False).where(ExportDateRange(this=start_date(), expression=last_day),
                                                       copy=False)

    def session_read(param: str) -> exp.Expr:  # the session param's value, from its record or the warehouse's column
        column = exp.column(cols.params[param])
        computed = session_value(param, column)
        if param not in session_only:
            return computed
        return SessionValue(this=column.copy(), expression=computed, param=exp.Literal.string(param))

    scanned = exp.select(
        *([EVENT_ROW] if event_rows else []),
        "event_date",
        exp.alias_(event_day(bucket), "event_day"),
        "event_timestamp", "event_name", "user_pseudo_id",
        exp.alias_(_session_key(session_read("ga_session_id"), batch), "session_key"),
        *cols.event_dimensions.values(),
        *cols.params.values(),
    )
    if traffic:
        location = as_string(exp.column(cols.params["page_location"]))
        for name, value in click_values(location, exp.column("collected_traffic_source")).items():
            scanned = scanned.select(exp.alias_(value, f"click_{name}"), copy=False)
        scanned = scanned.select(*(f"lc_{name}" for name in last_click_values()), copy=False)
    if cols.transaction_id:
        # GA4's placeholders for a missing id are not ids: those purchases cannot be deduplicated.
        tid = transaction_id(exp.column("transaction_id"))
        scanned = scanned.select(exp.alias_(tid, "transaction_id"), copy=False)
    if cols.page_path:
        location = as_string(exp.column(cols.params["page_location"]))
        scanned = scanned.select(exp.alias_(dims.url_path(location), "page_path"), copy=False)
    if "engaged" in cols.session_columns:
        scanned = scanned.select(exp.alias_(session_read("session_engaged"), "is_engaged"), copy=False)
    return [(RAW, raw), (SCANNED, scanned.from_(RAW, copy=False))]


def _session_key(session_id: exp.Expr, batch: bool) -> exp.Expr:
    user = exp.column("user_pseudo_id")
    return SessionKey(this=user, expression=session_id) if batch else text_session_key(user, session_id)
