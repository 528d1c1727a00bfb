"""Where DuckDB and BigQuery SQL differ: small nodes in the KPI AST, lowered per dialect.

Everything else in a KPI query is plain sqlglot and rendered by sqlglot's own dialects. These nodes mark
the spots sqlglot cannot translate well enough on its own:

- `EventsRelation`: the export's events: the relation `events` in DuckDB, the wildcard table
  `` `your-project.analytics_123456789.events_*` `` in BigQuery (the user puts their own project and dataset).
- `ExportDateRange`: which days to read: `event_date BETWEEN …` in DuckDB; `_TABLE_SUFFIX BETWEEN …` in
  BigQuery, so that BigQuery opens (and bills) only those daily tables. `KeptDayRange`, the same days of
  the warehouse's kept session days (DuckDB only): their DATE `event_day BETWEEN …`.
- `ExportColumn`: an attribution column older export eras lack: the column itself, or a typed NULL
  (`export_shape.py`).
- `EventParam`: the `value` record of one event param. BigQuery users write
  `(SELECT param.value FROM UNNEST(event_params) AS param WHERE param.key = 'k' LIMIT 1)`; DuckDB runs that
  correlated subquery about 100 times slower than `LIST_FILTER(event_params, …)[1].value`, so it gets the
  list function; a param the warehouse flattened at load (`ExportShape.flat_params`) is read from its own
  column instead (about 6 times cheaper again): its record, or, from a `kl_` column (`export_shape.LISTED`),
  the first of the event's params of that name it holds.
- `SessionKey`: one value per (`user_pseudo_id`, `ga_session_id`), NULL without either. The per-KPI
  statements write it as the text `user_pseudo_id.ga_session_id`; the batch statement (`batch.py`) groups
  and joins on it millions of times, and in DuckDB a STRUCT of the two does that without building a string
  per event; where the users hash apart, one UHUGEINT packing the user's hash and the session id
  (`packed_session_key`). BigQuery cannot count distinct STRUCTs, so it keeps the text.
- `UrlParam`: a query parameter of a URL (`utm_source`, `gclid`), NULL when absent or empty: a regular
  expression. DuckDB runs it only on a URL holding `name=` (most hold none: a substring search costs a
  fraction of a match; over 5M events the four parameters took 3.8 CPU s matched, 1.8 s tested first);
  BigQuery, which bills bytes read, gets the plain match.
- `EventClick`, `FlatClick`: a field of the click an event collected (`collected_traffic_source`, else the
  URL's UTM / gclid), and, in the projection over the events below it, the warehouse's column of that field:
  where the load computed it (`ExportShape.flat_column(click_key(field))`) every statement reads that column
  instead of searching each event's URL again (at 5M events with a distinct URL each, the week statement
  9.8 -> 7.3 CPU s); elsewhere the expression, and no such projection. `ClickInput`: what a click is computed
  from (`collected_traffic_source`, the `page_location` param where nothing else reads it), selected for
  the `EventClick` above: a typed NULL where the warehouse has all four fields as columns, so its `events`
  need not hold either (a 5M-event load without them: 23.0 -> 21.3 CPU s).
- `LookbackUsers`: an event of a user whose clicks a session of the statement may carry: the attribution
  lookback reads the 30 days before a statement's first day for those users' clicks only (`carrying_users`:
  the users with a session without GA4's own last click, few in an export that has it). In DuckDB the
  condition is that list (a one-day statement at 180 days of history 0.40 -> 0.30 CPU s, the same rows; a
  read of every user with an event from that day on, as before stop 49, took 0.79 -> 0.16 at 5M events).
  BigQuery, and a periods statement (which keeps each range's users itself), read every user's clicks.
- `SessionParam`, `SessionValue`: the session id and the engaged flag, read as a param's record and computed
  from it on every event; where the warehouse keeps the values as columns (`export_shape.SESSION_COLUMN`),
  those columns.
- `StableSum`: a sum of DOUBLEs that does not depend on the order the rows arrive in. DuckDB adds rows in
  whatever order its threads meet them, so the same query could differ in the last bits from one run to
  the next (and `kpi refresh` would see a changed value); `SUM(x ORDER BY x)` adds them in one order.
  BigQuery has no ordered SUM and gets a plain one.
"""

from __future__ import annotations

from typing import Literal

import sqlglot
from sqlglot import exp

from .bigquery_form import emulator_compatible
from .buckets import DATE_FORMAT
from .export_shape import (
    CLICK,
    FIRST_PURCHASES,
    LAST_CLICK_COLUMN,
    LISTED,
    NEWEST,
    PARAM_VALUE_FIELDS,
    ExportShape,
    click_key,
    field_key,
    session_value_key,
    struct_type,
)

Dialect = Literal["duckdb", "bigquery"]
DIALECTS: tuple[Dialect, ...] = ("duckdb", "bigquery")

BIGQUERY_TABLE_PLACEHOLDER = "your-project.analytics_123456789.events_*"
"""The export table BigQuery SQL reads; the file header tells the user to put their project and dataset."""


class EventsRelation(exp.Expression, exp.Func):
    """The GA4 export's events (one row per event, the export's columns). `first_purchases` (TRUE): read for the
    purchases' history only (`transactions.earlier_transactions`), so, beside `export_shape.FIRST_PURCHASES`
    (`ExportShape.first_purchases`), that relation: each id's first purchase only."""

    arg_types = {"this": False, "first_purchases": False}


EARLIEST_DAY = "00000000"
"""The lower bound of a history read (every day before `start_date`): before any export's first day; on
BigQuery it also keeps the `intraday_…` table suffixes out."""


class ExportDateRange(exp.Expression, exp.Func):
    """True for the events of the days `this` to `expression` (`YYYYMMDD` strings), both included."""

    arg_types = {"this": True, "expression": True}


class KeptDayRange(ExportDateRange):
    """`ExportDateRange` over the warehouse's kept session days (`session_facts.FACTS`): their DATE `event_day`
    between the two days, which DuckDB pushes into the scan (each row's day made text first was not)."""


class LookbackUsers(exp.Expression, exp.Func):
    """True for an event of a user (`this`, the `user_pseudo_id` column) among those of the subquery
    `expression` (the users whose sessions may carry a click, `attribution.carrying_users`); always true in
    BigQuery and where `without_lookback_users` drops it (see the module's docstring)."""

    arg_types = {"this": True, "expression": True}


class ExportColumn(exp.Expression, exp.Func):
    """A column (or `column.field`, a string literal) of the export that older eras lack (`export_shape.py`):
    the column, or a typed NULL."""

    arg_types = {"this": True}


class EventParam(exp.Expression, exp.Func):
    """The `value` record (string_value, int_value, float_value, double_value) of the event param `this`."""

    arg_types = {"this": True}


class EventField(exp.Expression, exp.Func):
    """The event-scoped export field `this` (a string literal: `device.category`, `platform`); where the warehouse
    keeps it as a column (`ExportShape.flat_column(field_key(path))`), that column."""

    arg_types = {"this": True}


class SessionKey(exp.Expression, exp.Func):
    """The session of an event: `user_pseudo_id` (`this`) and the integer `ga_session_id` (`expression`)."""

    arg_types = {"this": True, "expression": True}


def text_session_key(user: exp.Expr, session_id: exp.Expr) -> exp.Expr:
    """`user_pseudo_id.ga_session_id` (NULL without a session id): unique, as the part after the last dot is
    a whole number; one column, so counting distinct sessions works the same in every dialect."""
    return exp.DPipe(
        this=exp.DPipe(this=user, expression=exp.Literal.string(".")),
        expression=exp.cast(session_id, "VARCHAR"),
    )


def _struct_session_key(user: exp.Expr, session_id: exp.Expr, hashed: bool = False) -> exp.Expr:
    """(user_pseudo_id, ga_session_id); `hashed`: hash(user_pseudo_id) and ga_session_id packed into one
    number (`packed_session_key`), fixed width, so grouping and joining sessions compares numbers, not text
    (the week statement at 5M events: 11.2 → 9.5 CPU s as a record of the two; one number instead of the
    record, a full refresh side by side 21.8 → 20.9 CPU s, the same rows); exact only where no two users share
    a hash (`warehouse/statements.users_hash_apart` checks)."""
    both = exp.and_(user.copy().is_(exp.null()).not_(), session_id.copy().is_(exp.null()).not_())
    if hashed:
        return exp.Case(ifs=[exp.If(this=both, true=packed_session_key(exp.func("HASH", user), session_id))])
    key = exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier("user_pseudo_id"), expression=user),
                                  exp.PropertyEQ(this=exp.to_identifier("ga_session_id"), expression=session_id)])
    return exp.Case(ifs=[exp.If(this=both, true=key)])


_SESSION_ID_OFFSET = 1 << 63  # a BIGINT session id plus this is a UBIGINT, in the same order


def packed_session_key(user_hash: exp.Expr, session_id: exp.Expr) -> exp.Expr:
    """(hash(user_pseudo_id), ga_session_id) packed into one UHUGEINT: the hash in the high 64 bits, the session
    id moved into the low 64 (plus 2^63: every BIGINT fits, two ids never meet), so two sessions share a key
    only when they share both; one number, which DuckDB groups and joins faster than a record of two."""
    wide, signed = (exp.DataType.build(t, dialect="duckdb") for t in ("UHUGEINT", "HUGEINT"))
    high = exp.BitwiseLeftShift(this=exp.cast(user_hash, wide), expression=exp.Literal.number(64))
    low = exp.cast(exp.Add(this=exp.cast(session_id, signed), expression=exp.Literal.number(_SESSION_ID_OFFSET)),
                   wide.copy())
    return exp.BitwiseOr(this=exp.paren(high, copy=False), expression=low)


def session_user_hash(key: exp.Expr) -> exp.Expr:
    """The user's hash of a `packed_session_key`."""
    return exp.cast(exp.BitwiseRightShift(this=key, expression=exp.Literal.number(64)),
                    exp.DataType.build("UBIGINT", dialect="duckdb"))


class UrlParam(exp.Expression, exp.Func):
    """The query parameter named by the string literal `expression` of the URL `this`; NULL if absent or empty."""

    arg_types = {"this": True, "expression": True}


class EventClick(exp.Expression, exp.Func):
    """The field `this` (a string literal: source, medium, campaign, gclid) of the click an event collected,
    computed by `expression` from the event's `collected_traffic_source` and `page_location`; where the
    warehouse keeps that field as a column (`ExportShape.flat_column(click_key(field))`), it is read from the
    relation below as `flat_click_<field>` (which its `FlatClick` selects) instead."""

    arg_types = {"this": True, "expression": True}


class FlatClick(exp.Expression, exp.Func):
    """In a projection over the events relation: the warehouse's column of the click field `this`, as
    `flat_click_<field>`; a projection left out where there is no such column (`EventClick`)."""

    arg_types = {"this": True}


class ClickInput(exp.Expression, exp.Func):
    """In a projection over the events relation: `this` (the `ExportColumn` `collected_traffic_source`, or the
    `EventParam` `page_location`), selected only for computing the event's click (`EventClick`); a typed NULL
    where the relation holds all four click fields as columns (DuckDB), which every `EventClick` then reads.
    `params_read` leaves out the params under it."""

    arg_types = {"this": True}


class SessionParam(exp.Expression, exp.Func):
    """In a projection over the events relation: the `value` record of the session param `this` (a string
    literal: `ga_session_id`, `session_engaged`), selected for its `SessionValue` only; where the relation holds
    that value as a column (`ExportShape.flat_column(session_value_key(name))`, DuckDB), that column."""

    arg_types = {"this": True}


class SessionValue(exp.Expression, exp.Func):
    """Over a `SessionParam`'s projection `this` (a column): `expression`, the value computed from the record
    (`params.session_value` of the param `param`); where the relation holds the value as a column, `this`."""

    arg_types = {"this": True, "expression": True, "param": True}


def flat_click_alias(field: str) -> str:
    """The name under which a `FlatClick` of `field` is selected, for the `EventClick` above it."""
    return f"flat_click_{field}"


class LastClick(exp.Expression, exp.Func):
    """A field `this` of GA4's last click of the event's session, computed by `expression` from the export's
    `session_traffic_source_last_click`; where the events relation holds it as a column
    (`ExportShape.last_click_columns`, DuckDB), that column."""

    arg_types = {"this": True, "expression": True}


class ParamNotKept(ValueError):
    """A statement reads an event param or export field the warehouse's `events` has no column for
    (`ExportShape.event_params`, `ExportShape.event_fields`, `ExportShape.click_inputs`)."""


class _Dropped(exp.Expression):
    """A projection `lower` leaves out (a `FlatClick` without its column)."""

    arg_types = {"this": False}


class StableSum(exp.Expression, exp.AggFunc):
    """SUM(`this`), the same to the last bit however the rows are ordered (where the dialect allows)."""

    arg_types = {"this": True}


# Our own constant SQL, parsed once; the param key is put in as a literal node, never as text.
_PARAM_TEMPLATES: dict[Dialect, exp.Expr] = {
    "duckdb": sqlglot.parse_one("LIST_FILTER(event_params, param -> param.key = 'k')[1].value", read="duckdb"),
    "bigquery": sqlglot.parse_one(
        "(SELECT param.value FROM UNNEST(event_params) AS param WHERE param.key = 'k' LIMIT 1)", read="bigquery"
    ),
}


def lower(expression: exp.Expr, dialect: Dialect, copy: bool = True, export: ExportShape = NEWEST,
          hashed_users: bool = False) -> exp.Expr:
    """The KPI query with the nodes above replaced by the dialect's own SQL (in a copy, unless told), for an
    export of the shape `export` (an attribution column it lacks is read as a typed NULL). `hashed_users`
    (DuckDB): a session key holds `hash(user_pseudo_id)`, not the id (`_struct_session_key`)."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown SQL dialect {dialect!r}; use one of: {', '.join(DIALECTS)}")

    def replace(node: exp.Expr) -> exp.Expr:
        if isinstance(node, EventsRelation):
            if dialect == "duckdb" and export.first_purchases and node.args.get("first_purchases"):
                return exp.to_table(FIRST_PURCHASES)
            return _events_table(dialect)
        if isinstance(node, KeptDayRange):
            fmt = exp.Literal.string(DATE_FORMAT)
            return exp.Between(this=exp.column("event_day"), low=exp.StrToDate(this=node.this.copy(), format=fmt),
                               high=exp.StrToDate(this=node.expression.copy(), format=fmt.copy()))
        if isinstance(node, ExportDateRange):
            column = "_TABLE_SUFFIX" if dialect == "bigquery" else "event_date"
            return exp.Between(this=exp.column(column), low=node.this.copy(), high=node.expression.copy())
        if isinstance(node, LookbackUsers):
            return exp.In(this=node.this.copy(), query=node.expression.copy())
        if isinstance(node, ClickInput):
            if dialect == "duckdb" and all(export.flat_column(click_key(f)) for f in CLICK):
                kind = PARAM_VALUE_FIELDS if isinstance(node.this, EventParam) else None
                return exp.cast(exp.null(), exp.DataType.build(
                    struct_type(kind) if kind else export.column_type(node.this.name), dialect="duckdb"))
            return node.this.transform(replace, copy=False)
        if isinstance(node, ExportColumn):
            path = node.name
            if path == "collected_traffic_source" and not export.click_inputs and dialect == "duckdb":
                raise ParamNotKept("the clicks the events collected have no columns in the warehouse yet: "
                                   "`kpi refresh` extracts the fields the KPI files read")
            if export.has(path):
                return field_path(path)
            return exp.cast(exp.null(), exp.DataType.build(export.column_type(path), dialect="duckdb"))
        if isinstance(node, EventParam):
            flat = export.flat_column(node.name) if dialect == "duckdb" else None
            if flat and flat.startswith(LISTED):
                return first_value(exp.column(flat))
            if not flat and not export.event_params and dialect == "duckdb":
                raise ParamNotKept(f"the event param {node.name!r} has no column in the warehouse yet: "
                                   "`kpi refresh` extracts the params the KPI files read")
            return exp.column(flat) if flat else _event_param(node.this, dialect)
        if isinstance(node, EventField):
            flat = export.flat_column(field_key(node.name)) if dialect == "duckdb" else None
            if not flat and not export.event_fields and dialect == "duckdb":
                raise ParamNotKept(f"the export field {node.name!r} has no column in the warehouse yet: "
                                   "`kpi refresh` extracts the fields the KPI files read")
            return exp.column(flat) if flat else field_path(node.name)
        if isinstance(node, LastClick):
            if dialect == "duckdb" and export.last_click_columns:
                return exp.column(LAST_CLICK_COLUMN + node.name)
            return node.expression.transform(replace, copy=False)
        if isinstance(node, (SessionParam, SessionValue)):
            param = node.name if isinstance(node, SessionParam) else node.args["param"].name
            flat = export.flat_column(session_value_key(param)) if dialect == "duckdb" else None
            if isinstance(node, SessionParam):
                return exp.column(flat) if flat else replace(EventParam(this=node.this.copy()))
            return (node.this if flat else node.expression).transform(replace)
        if isinstance(node, SessionKey):  # its parts lowered first: a replaced node's children are not visited
            user, session_id = node.this.transform(replace), node.expression.transform(replace)
            if dialect == "duckdb":
                return _struct_session_key(user, session_id, hashed_users)
            return text_session_key(user, session_id)
        if isinstance(node, UrlParam):
            return _url_param(node.this, node.expression.name, dialect)
        if isinstance(node, (EventClick, FlatClick)):
            flat = export.flat_column(click_key(node.name)) if dialect == "duckdb" else None
            if isinstance(node, FlatClick):
                return exp.column(flat) if flat else _Dropped()
            if flat:
                return exp.column(flat_click_alias(node.name))
            return node.expression.transform(replace, copy=False)
        if isinstance(node, StableSum):
            if dialect == "bigquery":
                return exp.Sum(this=node.this)
            return exp.Sum(this=exp.Order(this=node.this, expressions=[exp.Ordered(this=node.this.copy())]))
        return node

    lowered = expression.copy() if copy else expression
    if dialect == "bigquery":
        lowered = without_lookback_users(lowered)
    lowered = lowered.transform(replace, copy=False)
    for dropped in list(lowered.find_all(_Dropped)):
        (dropped.parent if isinstance(dropped.parent, exp.Alias) else dropped).pop()
    if dialect == "bigquery":
        emulator_compatible(lowered, BIGQUERY_TABLE_PLACEHOLDER)
    return lowered


def without_lookback_users(expression: exp.Expr) -> exp.Expr:
    """`expression` (changed in place) with every `LookbackUsers` condition left out: `a AND LookbackUsers(…)`
    is `a`."""
    for users in list(expression.find_all(LookbackUsers)):
        within = users.parent
        if isinstance(within, exp.And) and within.expression is users:
            within.replace(within.this)
        elif users is expression:
            return exp.true()
        else:
            users.replace(exp.true())
    return expression


def params_read(expression: exp.Expr) -> list[str]:
    """The event params a (not yet lowered) statement reads, in the order it first reads them; not those it
    selects only for computing clicks (`ClickInput`), which the warehouse keeps as columns of their own."""
    return list(dict.fromkeys(node.name for node in expression.find_all(EventParam)
                              if node.find_ancestor(ClickInput) is None))


def fields_read(expression: exp.Expr) -> list[str]:
    """The event-scoped export fields (`device.category`) a (not yet lowered) statement reads, in order."""
    return list(dict.fromkeys(node.name for node in expression.find_all(EventField)))


def field_path(path: str) -> exp.Expr:
    """`device.category` as a column and its fields (`platform`: a column)."""
    column, *fields = path.split(".")
    out: exp.Expr = exp.column(column)
    for field in fields:
        out = exp.Dot(this=out, expression=exp.to_identifier(field))
    return out


def _events_table(dialect: Dialect) -> exp.Table:
    if dialect == "bigquery":
        return exp.Table(this=exp.to_identifier(BIGQUERY_TABLE_PLACEHOLDER, quoted=True))
    return exp.to_table("events")


def _url_param(url: exp.Expr, name: str, dialect: Dialect) -> exp.Expr:
    found = exp.RegexpExtract(this=url.copy(), expression=exp.Literal.string(f"[?&]{name}=([^&#]*)"),
                              group=exp.Literal.number(1))
    value = exp.Nullif(this=found, expression=exp.Literal.string(""))
    if dialect == "bigquery":
        return value
    holds = exp.GT(this=exp.StrPosition(this=url.copy(), substr=exp.Literal.string(f"{name}=")),
                   expression=exp.Literal.number(0))
    return exp.Case(ifs=[exp.If(this=holds, true=value)])


def params_named(key: str) -> exp.Expr:
    """DuckDB: the event's params named `key`, in list order (`LIST_FILTER(event_params, …)`)."""
    return _event_param(exp.Literal.string(key), "duckdb").this.this


def first_value(params: exp.Expr) -> exp.Expr:
    """DuckDB: the `value` record of the first param of a list of params, NULL for an empty list or NULL."""
    return exp.Dot(this=exp.Bracket(this=params, expressions=[exp.Literal.number(1)], offset=1),
                   expression=exp.to_identifier("value"))


def _event_param(key: exp.Expr, dialect: Dialect) -> exp.Expr:
    lowered = _PARAM_TEMPLATES[dialect].copy()
    placeholder = next(lit for lit in lowered.find_all(exp.Literal) if lit.is_string)
    placeholder.replace(key.copy())
    return lowered
