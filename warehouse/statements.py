"""The DuckDB statements a refresh runs, built for this warehouse (its flattened params) and kept between
refreshes (`sql_texts.py`): the KPIs' batch statements, GA4's attribution methods, a subject's values per day."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import duckdb
import sqlglot
from sqlglot import exp

from generator.plan.queries import QueryPlan
from generator.rules.value_uses import Subject
from generator.sql import render_plan_sql
from generator.sql.attribution_methods import render_methods_sql
from generator.sql.buckets import Bucket
from generator.sql.dialects import ParamNotKept
from generator.sql.export_shape import NEWEST, ExportShape
from generator.sql.session_facts import FactsUnsupported
from generator.sql.values import render_values_sql

from .day_tables import IN_DAYS, days_params
from .flat_params import warehouse_shape
from .sql_texts import kept_text, text_key


def plan_sql(con: duckdb.DuckDBPyConnection, plan: QueryPlan, kpi_ids: Sequence[str] | None = None,
             bucket: Bucket = "day", many_periods: bool = False, hashed_users: bool | None = None,
             period_users: bool = False, keyed_users: bool = False, users_by_id: bool = False,
             methods: Sequence[str] | None = None, methods_limit: int = 0, facts: bool = False) -> str:
    """`render_plan_sql(plan, "duckdb", kpi_ids, bucket=…, many_periods=…, hashed_users=…, period_users=…,
    keyed_users=…, users_by_id=…)` for this warehouse; `hashed_users` None: where the store's users hash apart
    (`users_hash_apart`), as nearly all do. `methods`: with the rows of `methods_sql(con, methods, methods_limit)`
    too (`batch.METHOD_ROWS`), or `batch.MethodsUnsupported`. `facts`: reading the kept session days
    (`session_facts.py`: only when `facts_ready`), whose clicks are ids of kept records, not event rows; the
    statement reading the events where they cannot be read (`FactsUnsupported`)."""
    if hashed_users is None:
        hashed_users = users_hash_apart(con)
    ids = None if kpi_ids is None else list(kpi_ids)
    hashed = bool(hashed_users)

    def kept(reads_facts: bool) -> str:
        shape = warehouse_shape(con)
        if reads_facts:
            shape = dataclasses.replace(shape, event_rows=False)
        key = text_key("plan", plan, shape, ids, bucket, many_periods, *(["hashed_users"] if hashed else []),
                       *(["period_users"] if period_users else []), *(["keyed_users"] if keyed_users else []),
                       *(["users_by_id"] if users_by_id else []), *(["facts"] if reads_facts else []),
                       *([["methods", *methods, methods_limit]] if methods is not None else []))
        return kept_text(con, key, lambda: or_over_raw(lambda export: render_plan_sql(
            plan, "duckdb", ids, bucket=bucket, many_periods=many_periods, hashed_users=hashed,
            period_users=period_users, keyed_users=keyed_users, users_by_id=users_by_id, export=export,
            methods=methods, methods_limit=methods_limit, facts=reads_facts), shape))

    if facts:
        try:
            return kept(True)
        except FactsUnsupported:
            pass
    return kept(False)


_users: dict[tuple[object, ...], tuple[int, int]] = {}  # (ids, their hashes) by store file and loaded state


def users_hash_apart(con: duckdb.DuckDBPyConnection) -> bool:
    """True when no two users of the store's events share a `hash(user_pseudo_id)` (64 bits): the KPI
    statements then key sessions and users by that number (`render_plan_sql(..., hashed_users=True)`), as
    exactly as by the id and faster. Among a million users, two share a hash with a chance of about 3 in 100
    million; the statements then key them by the ids themselves. Read from the counts of `user_ids` that each load
    keeps (`keep_user_ids`), once per store file and loaded state; an in-memory store is checked every time."""
    ids, hashes = _user_counts(con)
    return bool(ids == hashes)


def store_users(con: duckdb.DuckDBPyConnection) -> int:
    """The distinct users the store's loads stored (counted with `users_hash_apart`, once per loaded state; a
    user of a day since reloaded without them still counts)."""
    return _user_counts(con)[0]


_NEW_USER_IDS = f"""CREATE OR REPLACE TEMP TABLE new_user_ids AS
SELECT n.user_key, n.user_pseudo_id FROM (
    SELECT DISTINCT hash(user_pseudo_id) AS user_key, user_pseudo_id FROM slim_events
    WHERE {IN_DAYS} AND user_pseudo_id IS NOT NULL) n
ANTI JOIN user_ids u ON u.user_key = n.user_key AND u.user_pseudo_id = n.user_pseudo_id"""
_COUNT_ON = """UPDATE user_id_counts SET
    hashes = CASE WHEN id_rows = (SELECT count(*) FROM user_ids) THEN hashes + (
        SELECT count(DISTINCT user_key) FROM new_user_ids WHERE user_key NOT IN (SELECT user_key FROM user_ids))
    ELSE (SELECT count(DISTINCT user_key) FROM (SELECT user_key FROM user_ids UNION ALL
                                                SELECT user_key FROM new_user_ids)) END,
    id_rows = (SELECT count(*) FROM user_ids) + (SELECT count(*) FROM new_user_ids)"""


def keep_user_ids(con: duckdb.DuckDBPyConnection, days: list[str]) -> None:
    """Add the user ids of the stored `days` that `user_ids` lacks (in the load's transaction, after it inserts
    them), and count them on in `user_id_counts`. Ids are never removed, so the table holds every stored user id
    and maybe some no longer stored: no two of its ids sharing a hash is then enough for the store's. Checking it
    at 10M events took 0.11 CPU s where reading every stored event's id took 0.70 (0.29 at 5M), on every refresh
    after a load, and counting the table's distinct hashes 0.2–0.3 s at 180 days of 55,000 events, which the
    counts kept here save; keeping the ids adds about 0.6 CPU s to a first load of 5M events, and nothing
    measurable to a day's (1.4 CPU s at 10M)."""
    con.execute(_NEW_USER_IDS, days_params(days))
    try:
        con.execute(_COUNT_ON)  # before the insert: a new id's hash counts if no kept id has it
        con.execute("INSERT INTO user_ids SELECT user_key, user_pseudo_id FROM new_user_ids")
    finally:
        con.execute("DROP TABLE IF EXISTS new_user_ids")


def _user_counts(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    state = con.execute("SELECT (SELECT path FROM duckdb_databases() WHERE database_name = current_database()), "
                        "count(*), max(loaded_at), sum(rows) FROM loaded_days").fetchall()[0]
    if state[0] is not None and state in _users:
        return _users[state]
    counts = None
    # every stored event came through a load that kept its user id, unless something else wrote the table
    if con.execute("SELECT count(*) FROM events").fetchall()[0][0] == (state[3] or 0):
        try:
            counts = _kept_counts(con) or _counted(con, "user_ids")
        except duckdb.CatalogException:  # a store not migrated yet, read read-only (`kpi edit`)
            counts = None
    counts = counts or _counted(con, "events")
    if state[0] is not None:
        if len(_users) >= 16:  # a process reads one store, or a few (tests)
            _users.clear()
        _users[state] = counts
    return counts


_COUNTED = {
    # each id is kept once (a row twice would only make the ids look more than their hashes: keyed by id)
    "user_ids": "SELECT count(*), count(DISTINCT user_key) FROM user_ids",
    "events": "SELECT count(DISTINCT user_pseudo_id), count(DISTINCT hash(user_pseudo_id)) "
              "FILTER (WHERE user_pseudo_id IS NOT NULL) FROM events",
}


def _kept_counts(con: duckdb.DuckDBPyConnection) -> tuple[int, int] | None:
    """(user ids, their distinct hashes) as the loads counted them on in `user_id_counts`, or None when
    `user_ids` has another number of rows than they counted (something else wrote it)."""
    found = con.execute("SELECT id_rows, hashes FROM user_id_counts "
                        "WHERE id_rows = (SELECT count(*) FROM user_ids)").fetchall()
    return (int(found[0][0]), int(found[0][1])) if found else None


def _counted(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int]:
    """(user ids, their distinct hashes) in `user_ids` (the hashes it holds) or `events`."""
    ids, hashes = con.execute(_COUNTED[table]).fetchall()[0]
    return int(ids), int(hashes)


def methods_sql(con: duckdb.DuckDBPyConnection, dimensions: Sequence[str] = (), limit: int = 0) -> str:
    """GA4's attribution methods per day (`generator/sql/attribution_methods.py`) for this warehouse, with the
    values a day of the session `dimensions` (at most `limit` each); users keyed as by `plan_sql`."""
    shape = warehouse_shape(con)
    hashed = users_hash_apart(con)
    key = text_key("methods", None, shape, list(dimensions), limit, *(["hashed_users"] if hashed else []))
    return kept_text(con, key, lambda: or_over_raw(lambda export: render_methods_sql(
        "duckdb", export=export, dimensions=dimensions, limit=limit, hashed_users=hashed), shape))


def values_sql(con: duckdb.DuckDBPyConnection, subject: Subject, limit: int) -> str:
    """A subject's values per day, at most `limit` a day (`generator/sql/values.py`), for this warehouse."""
    shape = warehouse_shape(con)
    key = text_key("values", None, shape, subject, limit)
    return kept_text(con, key, lambda: or_over_raw(
        lambda export: render_values_sql(subject, "duckdb", limit, export=export, per_day=True), shape))


def or_over_raw(render: Callable[[ExportShape], str], shape: ExportShape) -> str:
    """`render(shape)`, the statement over `events`; where it reads a param `events` has no column for yet (the
    KPI files started to read it, no refresh extracted it: `ParamNotKept`), the statement over the raw export
    (`ga4_events`, `raw_files.py`) instead: slower, the same values."""
    try:
        return render(shape)
    except ParamNotKept:
        return over_raw(render(NEWEST))


def over_raw(sql: str) -> str:
    """The DuckDB statement `sql`, written for an `events` relation in the export's shape, over the raw export
    (`ga4_events`) instead."""
    statement = sqlglot.parse_one(sql, read="duckdb")
    for table in statement.find_all(exp.Table):
        if table.name == "events" and not table.db:
            table.set("this", exp.to_identifier("ga4_events"))
    return statement.sql("duckdb")
