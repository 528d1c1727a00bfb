"""Session days kept per loaded day (issue 13): the events grouped by day and session once, read by every statement.

`kpi refresh` first keeps, in `session_facts`, the session days (`generator/sql/session_facts.py`) of every loaded
day that lacks them (`keep_facts`); then every KPI statement per day and every periods statement reads them
(`plan_sql(..., facts=True)`) instead of grouping the events again: at 5M events over 90 days a periods statement
regroups 851,000 rows where it grouped the 5M events it spread. The rows are those of the statement for all the
plan's KPIs, so they are kept under the text of that statement (`signature`); a day's rows stay right until a
load changes that day or a day before it (a purchase's id seen before decides whether it counts). So each day
records the newest load of the days up to it (`loads`, from `loaded_days.load_id`, which only grows); a day
whose record differs, or whose rows another text made, is kept again. A session's clicks are kept as ids of
their records (`sessions.click_id`, a hash: an ARG_MIN of a number costs less than one of a record of four
texts), the records in `kept_last_clicks` and `kept_clicks`; not as event row ids (`ExportShape.event_rows`): a
row id is a position in the table, which DuckDB renumbers when a checkpoint compacts it after a reload. Two
records sharing an id (about 3 chances in 10^12 among 10,000 distinct records) would be read as one: then
nothing is kept, and the statements read the events. Each row is flagged when it is its session's only one
(`SINGLE`, made again for the sessions of the days kept: `_mark_single`), which every statement reads as it is.

Kept outside the refresh's own transaction, each keeping in one of its own: the rows depend on the loaded events
only, so rows kept by a refresh that fails later are still right.
"""

from __future__ import annotations

import dataclasses
import hashlib

import duckdb

from generator.plan.queries import QueryPlan
from generator.sql.batch import render_facts_sql
from generator.sql.session_facts import FACTS, SINGLE
from generator.sql.sessions import KEPT_CLICKS

from .connection import statement_events, transaction
from .flat_params import warehouse_shape
from .refresh_days import contiguous_ranges, parse_day, within_budget
from .schema.kept_reads import FACT_DAYS, table_comment
from .sql_texts import kept_text, text_key
from .statements import users_hash_apart

_LOADS_UPTO = ("SELECT event_date, max(load_id) OVER (ORDER BY event_date ROWS UNBOUNDED PRECEDING) "
               "FROM loaded_days")


def facts_sql(con: duckdb.DuckDBPyConnection, plan: QueryPlan, clicks: str | None = None) -> str | None:
    """The statement giving the plan's session days for this warehouse (users keyed as `plan_sql` keys them), or
    with `clicks` (`last_click`, `click`) the records of their clicks; None when no KPI of the plan counts
    session days."""
    # the purchases' history read from the events even in a refresh (`first_seen.first_purchases`): the rows are
    # kept under this text, which must be the same whenever it is asked for
    shape = dataclasses.replace(warehouse_shape(con), event_rows=False, first_purchases=False)
    hashed = users_hash_apart(con)
    key = text_key("facts", plan, shape, clicks, *(["hashed_users"] if hashed else []))
    try:
        return kept_text(con, key, lambda: render_facts_sql(plan, shape, hashed_users=hashed, clicks=clicks))
    except (ValueError, ArithmeticError, RecursionError):  # none counts session days, or a KPI cannot be written
        return None  # (`FactsUnsupported` is a ValueError): the statements read the events


def signature(sql: str) -> str:
    """The mark of rows kept by `sql`, with their `SINGLE` flags (a table made before those has another)."""
    return hashlib.sha256(f"{sql}\n-- {SINGLE}".encode()).hexdigest()[:32]


def facts_ready(con: duckdb.DuckDBPyConnection, plan: QueryPlan) -> bool:
    """True when `session_facts` holds right rows of the plan for every loaded day (`keep_facts` made them)."""
    sql = facts_sql(con, plan)
    return sql is not None and _table_mark(con) == signature(sql) and not _stale_days(con, signature(sql))


def keep_facts(con: duckdb.DuckDBPyConnection, plan: QueryPlan, full: bool = False) -> bool:
    """Keep the session days of every loaded day that lacks right ones (`full`: of every loaded day); True when
    every loaded day has them after (False: no KPI of the plan counts session days, or their statement failed:
    the statements read the events)."""
    sql = facts_sql(con, plan)
    if sql is None:
        return False
    mark = signature(sql)
    made = _table_mark(con) == mark
    stale = _stale_days(con, mark) if made and not full else sorted(str(d) for (d,) in con.execute(
        "SELECT event_date FROM loaded_days").fetchall())
    if made and not stale:
        return True
    per_day = {str(d): int(n) for d, n in con.execute("SELECT event_date, rows FROM loaded_days").fetchall()}
    loads = dict(con.execute(_LOADS_UPTO).fetchall())
    clicks = {name: facts_sql(con, plan, name) for name in KEPT_CLICKS}
    try:
        with transaction(con):
            if not made:  # none yet, or another plan's or shape's columns: made again, empty
                nothing = {"start_date": _NO_DAY, "end_date": _NO_DAY}
                for table, text in ((FACTS, sql), *((KEPT_CLICKS[n], clicks[n]) for n in KEPT_CLICKS)):
                    con.execute(f"CREATE OR REPLACE TABLE {table} AS {text}", nothing)
                con.execute(f"ALTER TABLE {FACTS} ADD COLUMN {SINGLE} BOOLEAN DEFAULT FALSE")
                con.execute(f"COMMENT ON TABLE {FACTS} IS '{mark}'")  # hex digits only
                con.execute(f"DELETE FROM {FACT_DAYS}")
            every = not made or full  # else the sessions of the stale days, before and after (`_mark_single`)
            if not every:
                _sessions_of(con, stale, replace=True)
            for start, end in within_budget(contiguous_ranges(stale), per_day, statement_events(con)):
                days = {"start_date": start, "end_date": end}
                con.execute(f"DELETE FROM {FACTS} WHERE event_day BETWEEN strptime($start_date, '%Y%m%d')::DATE "
                            "AND strptime($end_date, '%Y%m%d')::DATE", days)
                con.execute(f"INSERT INTO {FACTS} BY NAME SELECT *, session_key IS NOT NULL AS {SINGLE} FROM ({sql})",
                            days)  # a session's only row until `_mark_single` finds others
                for name, table in KEPT_CLICKS.items():  # the records not kept yet (none is ever removed)
                    con.execute(f"INSERT INTO {table} SELECT * FROM ({clicks[name]}) EXCEPT SELECT * FROM {table}",
                                days)
            if not every:
                _sessions_of(con, stale, replace=False)
            _mark_single(con, every)
            if any(_ids_shared(con, table) for table in KEPT_CLICKS.values()):
                raise _SharedIds
            con.execute(f"INSERT OR REPLACE INTO {FACT_DAYS} SELECT unnest($days), $mark, unnest($loads)",
                        {"days": stale, "mark": mark, "loads": [loads[d] for d in stale]})
    except (duckdb.Error, _SharedIds):
        return False
    return True


_CHANGED = "kb_changed_sessions"


def _sessions_of(con: duckdb.DuckDBPyConnection, days: list[str], replace: bool) -> None:
    """The sessions with a row on one of `days` (YYYYMMDD) in the temporary table `_CHANGED`: made anew
    (`replace`), or added to."""
    dates = sorted(parse_day(d) for d in days)  # compared as DATEs: no row's day made text, rows outside skipped
    read = (f"SELECT DISTINCT session_key FROM {FACTS} WHERE session_key IS NOT NULL "
            "AND event_day BETWEEN $first AND $last AND list_contains($days, event_day)")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_CHANGED} AS {read}" if replace else
                f"INSERT INTO {_CHANGED} {read}", {"days": dates, "first": dates[0], "last": dates[-1]})


def _mark_single(con: duckdb.DuckDBPyConnection, every: bool) -> None:
    """`SINGLE` of every row of every session (`every`), or of the sessions of `_CHANGED`: TRUE for a session's
    only row. Those are the sessions with a row on a day kept again, before it was or after: a session gains or
    loses rows there only, so every other flag stays right. A row is kept as its session's only one (TRUE, where
    it has a key), so only the rows of sessions of several rows, and of sessions a reload left one row, are
    written again: writing every row cost 0.15-0.2 of a full refresh's 15 CPU s at 5M events."""
    of_changed = "" if every else f"WHERE session_key IN (SELECT session_key FROM {_CHANGED})"
    con.execute(f"""
        UPDATE {FACTS} AS f SET {SINGLE} = c.rows = 1
        FROM (SELECT session_key, count(*) AS rows FROM {FACTS} {of_changed} GROUP BY session_key) AS c
        WHERE f.session_key = c.session_key AND f.{SINGLE} IS DISTINCT FROM (c.rows = 1)""")
    if not every:
        con.execute(f"DROP TABLE {_CHANGED}")


_NO_DAY = "19000101"  # a day no export has (GA4 began in 2020): the tables made empty


def _stale_days(con: duckdb.DuckDBPyConnection, mark: str) -> list[str]:
    """The loaded days without right session days: none kept, kept by another text, or before a load since."""
    found = con.execute(f"""
        SELECT l.event_date FROM ({_LOADS_UPTO}) l(event_date, loads)
        LEFT JOIN {FACT_DAYS} k ON k.event_date = l.event_date AND k.signature = $mark AND k.loads = l.loads
        WHERE k.event_date IS NULL ORDER BY 1""", {"mark": mark}).fetchall()
    return [str(d) for (d,) in found]


def _table_mark(con: duckdb.DuckDBPyConnection) -> str | None:
    """The signature `session_facts` was made with; None when there is no such table."""
    return table_comment(con, FACTS)


class _SharedIds(Exception):
    """Two kept click records share an id."""


def _ids_shared(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    (shared,) = con.execute(f"SELECT count(*) - count(DISTINCT event_row) FROM {table}").fetchall()[0]
    return bool(shared)
