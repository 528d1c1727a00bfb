"""Per day, how many sessions got their channel by which attribution method (`attribution.METHODS`).

The statement reads the events exactly as a KPI by channel does (`scan.py`, `sessions.py`, up to the session
table with its own or carried click), then counts each day's sessions by `attribution.attribution_method`, so
the method shown is the branch the KPI's channel really came from. A session with events on two days counts on
both, as in the `sessions` KPI. Result columns: `date` (DATE), `method`, `sessions`.

With `dimensions` (DuckDB; session dimensions such as `channel`), the same statement also gives each day's
distinct values of each, as `generator/sql/values.py` reads them (`per_day`: each session once a day, with
GA4's channel rules), at most `limit` a day: rows `(date, NULL, NULL, dimension, value)` after the methods'
`(date, method, sessions, NULL, NULL)`. The warehouse keeps them as the observed values of those days
(`warehouse/observed_values.py`): one grouping of the events by session serves both, where two statements
each grouped them (at 5M events, 4.9 CPU s saved on a first refresh).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from .attribution import attribution_method
from .dialects import Dialect, lower
from .export_shape import NEWEST, ExportShape
from .scan import DATE_FORMAT, SCANNED, SESSIONS_ALIAS, EventColumns, end_date, scan_ctes
from .sessions import ATTRIBUTED, METHOD, SESSIONS, session_ctes

DAY_VALUES = "session_day_values"


def build_methods_query(batch: bool = True, dimensions: Sequence[str] = (), limit: int = 0) -> exp.Query:
    """The dialect-neutral statement (`batch`: the session key as the batch statement builds it); with
    `dimensions`, their values a day too (at most `limit` each)."""
    cols = EventColumns()
    cols.session_columns |= {"channel", *([METHOD] if dimensions else [])}  # `day_values` reads the sessions' method
    values = [cols.dimension(name) for name in dimensions]  # before the scan: they add what it reads
    ctes: list[tuple[str, exp.Query]] = [*scan_ctes(cols, end_date(), batch=batch)]
    if dimensions:
        return _with_values(ctes, cols, list(dimensions), values, limit, batch)
    sessions = session_ctes({"channel"}, batch=batch)
    names = [name for name, _ in sessions]
    ctes += sessions[: names.index(ATTRIBUTED) + 1]  # the channel rules themselves are not needed
    days = (exp.select("event_date", "session_key").distinct().from_(SCANNED)
            .where(exp.column("session_key").is_(exp.null()).not_()))
    ctes.append(("session_days", days))
    day = exp.StrToDate(this=exp.column("event_date", table="d"), format=exp.Literal.string(DATE_FORMAT))
    select = (exp.select(exp.alias_(day, "date"), exp.alias_(attribution_method(), "method"),
                         exp.alias_(exp.Count(this=exp.Star()), "sessions"))
              .from_(exp.alias_(exp.to_table("session_days"), "d", table=True))
              .join(exp.alias_(exp.to_table(ATTRIBUTED), "a", table=True),
                    on=exp.EQ(this=exp.column("session_key", table="d"), expression=exp.column("session_key", table="a")))
              .group_by(exp.Literal.number(1), exp.Literal.number(2)))
    return _with(select, ctes)


def _with_values(ctes: list[tuple[str, exp.Query]], cols: EventColumns, dimensions: list[str],
                 values: list[exp.Expr], limit: int, batch: bool) -> exp.Query:
    """The methods' rows and then each dimension's values a day, from one table of each day's sessions."""
    ctes += session_ctes(cols.session_columns, channel_per_source=True, batch=batch)
    ctes.append((DAY_VALUES, day_values(values, SCANNED)))
    return _with(methods_rows(dimensions, limit), ctes)


def day_values(values: list[exp.Expr], scanned: str, upto: exp.Expr | None = None) -> exp.Select:
    """The `session_day_values` body: each session once a day, as values.py joins them (with the events that
    have no session: direct), with its attribution method and the `values` (`value_<i>`) of the dimensions.
    Reads `scanned` (`event_date`, `session_key`) and `sessions` (with `sessions.METHOD`: the statement's
    session columns must hold it); `upto`: the last YYYYMMDD day to read of `scanned` (a scan that reads on
    past `end_date`)."""
    days = exp.select("event_date", "session_key").distinct().from_(scanned)
    if upto is not None:
        days = days.where(exp.LTE(this=exp.column("event_date"), expression=upto))
    return _of_days(days, values)


def day_values_of_kept(body: exp.Select, days: str, upto: exp.Expr) -> exp.Select:
    """`body` (a `day_values` body) reading each day's sessions from the statement's `days`, its session days
    read from the kept ones (`session_facts.py`: a row per day, session and breakdown value, sessions without a
    key included, as the scan has them), up to the YYYYMMDD day `upto`, not from every scanned event (at 5M
    events a daily statement 1.37 -> 1.29 CPU s, the same rows)."""
    day = exp.column("event_day")
    read = (exp.select(exp.alias_(exp.TimeToStr(this=day, format=exp.Literal.string(DATE_FORMAT)), "event_date"),
                       "session_key").distinct().from_(days)
            .where(exp.LTE(this=day.copy(), expression=exp.StrToDate(this=upto, format=exp.Literal.string(DATE_FORMAT)))))
    values = [p.this for p in body.expressions if p.alias_or_name.startswith("value_")]
    return _of_days(read, values)


def _of_days(days: exp.Select, values: list[exp.Expr]) -> exp.Select:
    """`day_values` of the sessions a day `days` gives (`event_date`, `session_key`): a session is counted when
    it is in the session table, which holds every session of `session_attributed` once (its source, medium and
    campaign are never NULL, `attribution.session_attribution`, and `session_channels` has one row per source,
    medium and campaign; where the session table reads click ids, `session_pair_channels` has one row per pair of
    ids, the kept records being one per id: `warehouse/session_facts._ids_shared`), with the method it carries."""
    key = exp.column("session_key", table="e")
    s = exp.to_identifier(SESSIONS_ALIAS)
    return (exp.select(exp.column("event_date", table="e"),
                       exp.alias_(exp.column("session_key", table=s).is_(exp.null()).not_(), "counted"),
                       exp.alias_(exp.column(METHOD, table=s), "method"),
                       *(exp.alias_(value, f"value_{i}") for i, value in enumerate(values)))
            .from_(exp.alias_(exp.Subquery(this=days), "e", table=True))
            .join(exp.alias_(exp.to_table(SESSIONS), SESSIONS_ALIAS, table=True), join_type="left",
                  on=exp.EQ(this=key.copy(), expression=exp.column("session_key", table=SESSIONS_ALIAS))))


def methods_rows(dimensions: Sequence[str], limit: int) -> exp.Query:
    """From `session_day_values` (`day_values`): per day, the sessions of each method as
    `(date, method, sessions, NULL, NULL)`, then each dimension's values (at most `limit` a day) as
    `(date, NULL, NULL, dimension, value)`."""
    day = exp.StrToDate(this=exp.column("event_date"), format=exp.Literal.string(DATE_FORMAT))
    text, count = exp.DataType.build("VARCHAR"), exp.DataType.build("BIGINT")
    union: exp.Query = (exp.select(exp.alias_(day, "date"), "method", exp.alias_(exp.Count(this=exp.Star()), "sessions"),
                                   exp.alias_(exp.cast(exp.null(), text), "dimension"),
                                   exp.alias_(exp.cast(exp.null(), text), "value"))
                        .from_(DAY_VALUES).where("counted").group_by(exp.Literal.number(1), exp.Literal.number(2)))
    for i, name in enumerate(dimensions):
        value = exp.column(f"value_{i}")
        rank = exp.Window(this=exp.RowNumber(), partition_by=[exp.column("event_date")],
                          order=exp.Order(expressions=[exp.Ordered(this=value.copy())]))
        rows_of = (exp.select(exp.alias_(day.copy(), "date"), exp.alias_(exp.cast(exp.null(), text), "method"),
                              exp.alias_(exp.cast(exp.null(), count), "sessions"),
                              exp.alias_(exp.Literal.string(name), "dimension"), exp.alias_(value.copy(), "value"))
                   .from_(DAY_VALUES).group_by(exp.column("event_date"), value.copy())
                   .qualify(exp.LTE(this=rank, expression=exp.Literal.number(limit))))
        union = exp.union(union, rows_of, distinct=False)
    return union


def _with(select: exp.Query, ctes: list[tuple[str, exp.Query]]) -> exp.Query:
    for name, body in ctes:
        select = select.with_(name, as_=body, copy=False)
    return select


def render_methods_sql(dialect: Dialect = "duckdb", export: ExportShape = NEWEST, dimensions: Sequence[str] = (),
                       limit: int = 0, hashed_users: bool = False) -> str:
    """The statement for `duckdb` or `bigquery`, with `start_date` / `end_date` ('YYYYMMDD') as parameters
    (`dimensions`, `hashed_users`: DuckDB only)."""
    if (dimensions or hashed_users) and dialect != "duckdb":
        raise ValueError("a day's values of dimensions and hashed users are for DuckDB statements only")
    return lower(build_methods_query(batch=dialect == "duckdb", dimensions=dimensions, limit=limit), dialect,
                 copy=False, export=export, hashed_users=hashed_users).sql(dialect=dialect, pretty=True)
