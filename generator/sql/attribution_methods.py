"""Per day, how many sessions got their channel by which attribution method (`attribution.METHODS`).

The statement reads the events exactly as a KPI by channel does (`scan.py`, `sessions.py`, up to the session
table with its own or carried click), then counts each day's sessions by `attribution.attribution_method`, so
the method shown is the branch the KPI's channel really came from. A session with events on two days counts on
both, as in the `sessions` KPI. Result columns: `date` (DATE), `method`, `sessions`.
"""

from __future__ import annotations

from sqlglot import exp

from .attribution import attribution_method
from .dialects import Dialect, lower
from .export_shape import NEWEST, ExportShape
from .scan import DATE_FORMAT, SCANNED, EventColumns, end_date, scan_ctes
from .sessions import ATTRIBUTED, session_ctes


def build_methods_query(batch: bool = True) -> exp.Select:
    """The dialect-neutral statement (`batch`: the session key as the batch statement builds it)."""
    cols = EventColumns()
    cols.session_columns.add("channel")
    ctes: list[tuple[str, exp.Query]] = [*scan_ctes(cols, end_date(), batch=batch)]
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
    for name, body in ctes:
        select = select.with_(name, as_=body, copy=False)
    return select


def render_methods_sql(dialect: Dialect = "duckdb", export: ExportShape = NEWEST) -> str:
    """The statement for `duckdb` or `bigquery`, with `start_date` / `end_date` ('YYYYMMDD') as parameters."""
    return lower(build_methods_query(batch=dialect == "duckdb"), dialect, copy=False, export=export).sql(
        dialect=dialect, pretty=True)
