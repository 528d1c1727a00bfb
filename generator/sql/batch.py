"""Many KPIs in one statement: one read of the export, one session table, then each KPI's aggregation.

`render_plan_sql(plan, dialect, kpi_ids)` is what `kpi refresh` runs; `render_sql` (one statement per KPI) is
what users read. For the same days both give exactly the same rows; the batch's result has `kpi_id` in front
of the usual columns (`BATCH_COLUMNS`). The statement's CTEs, in order:

1. `raw_events`, `scanned_events` (`scan.py`): the days `start_date` … the last day any KPI reads (a conversion
   reads a few days past `end_date`), with every param and column any of the KPIs reads, each extracted once
   per event; a param that only some events' measures read is extracted on those events only. Never stored:
   each of the (two) readers below scans with its own filters.
2. what the KPIs share (`shared.py`): the events the KPIs outside the roll-up read (`event_rows`), the
   session roll-up and the session tables built from it (`rollup.py`), each scope's deduplicated purchases;
3. per KPI, its own CTEs as in its own statement, prefixed `<kpi>__` (`measure_rows` … `aggregated`), reading
   the shared ones, or its `aggregated` counted from the roll-up; then `<kpi>__result`. A derived KPI combines
   its components' results (`derived.combine`);
4. `UNION ALL` of the requested KPIs' results, ordered like each KPI's own (by KPI first).

With `methods` (DuckDB, per day), the same statement also gives what `attribution_methods.py`'s statement gives
for its days (`METHOD_ROWS`), from the session tables the KPIs already built: a refresh needs both for a new
day, and the separate statement grouped the same events by session again (at 5M events, 4.7 CPU s of a full
refresh's 48).

Where DuckDB would otherwise compute a shared CTE once per reader, it is MATERIALIZED (`ctes.attach`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence

from sqlglot import exp

from ..plan.queries import ConversionQuery, DerivedQuery, KpiQuery, QueryPlan
from .attribution_methods import DAY_VALUES, day_values, day_values_of_kept, methods_rows
from .buckets import Bucket
from .build import AGGREGATED, RESULT_COLUMNS, last_day, measure_parts, result
from .conversions import extension_days
from .ctes import Cte, attach, rename_tables
from .derived import ROW_KEYS, combine, shown_breakdowns
from .dialects import Dialect, lower
from .export_shape import NEWEST, ExportShape
from .periods import spread_over_periods
from .rollup import SESSION_DAYS
from .scan import DATE_FORMAT, RAW, SCANNED, EventColumns, end_date, scan_ctes, start_date
from .session_facts import (
    FACTS,
    FACTS_ALIAS,
    FactsUnsupported,
    fact,
    facts_statement,
    groupings_singly,
    merged_days,
    read_by,
)
from .sessions import METHOD, SESSIONS, click_records
from .shared import scope_names, shared_ctes
from .zero_days import DATA_DAYS, data_days, filled, filled_name

BATCH_COLUMNS = ("kpi_id", *RESULT_COLUMNS)
RESULT = "result"
METHOD_ROWS = "the rows with kpi_id NULL"
"""With `methods`, the statement's rows of `attribution_methods.methods_rows` in the batch's columns, `kpi_id`
NULL: a day's sessions of a method as (date, breakdown NULL, breakdown_value the method, numerator the
sessions), a dimension's value a day as (date, breakdown the dimension, breakdown_value the value)."""


class MethodsUnsupported(ValueError):
    """The KPIs' statement has no session table of its days to count the attribution methods from."""

_SAFE_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")


def build_plan_query(plan: QueryPlan, kpi_ids: Iterable[str] | None = None, bucket: Bucket = "day",
                     many_periods: bool = False, hashed_users: bool = False, period_users: bool = False,
                     keyed_users: bool = False, users_by_id: bool = False, methods: Sequence[str] | None = None,
                     methods_limit: int = 0, event_rows: bool = False, facts: bool = False) -> exp.Query:
    """The KPIs `kpi_ids` (default: every KPI of the plan) in one dialect-neutral statement, per `bucket`.

    `many_periods`: with the `period` bucket, every range its parameters name (`period_parameters.period_parameters`) in
    the one statement, one row per range and breakdown value, its `date` the range's start (DuckDB only);
    `hashed_users`: a user is paired with its range as `hash(user_pseudo_id)`, not the id's text (`periods._pair`;
    `render_plan_sql` hashes the session keys too); `period_users`: with `many_periods`, each range counts only
    its users in the table `period_users`, and with `keyed_users` each of those users in one range only, all of
    their events in it (`periods.spread_over_periods`); `users_by_id`: the events of `period_users`' users are
    read by their ids, not their hashes (for a table of few users: `periods._of_users`); `methods`: also the
    attribution methods of the days and the values a day of these session dimensions, at most `methods_limit`
    each (`METHOD_ROWS`; per day only), or `MethodsUnsupported` when no KPI builds the session table of its days;
    `event_rows`: the events relation numbers its events (`ExportShape.event_rows`; `sessions.session_ctes`);
    `facts`: `session_days` is read from the warehouse's kept session days of every day the statement reads
    (`session_facts.py`; per day or with `many_periods`; a statement without one reads the events as it would),
    or `FactsUnsupported` (one that cannot be merged from them).
    """
    if facts and bucket != "day" and not many_periods:
        raise ValueError("kept session days go with the `day` bucket or `many_periods`")
    if methods is not None and (bucket != "day" or many_periods):
        raise ValueError("the attribution methods go with the `day` bucket")
    if many_periods and bucket != "period":
        raise ValueError("`many_periods` go with the `period` bucket")
    if period_users and not many_periods:
        raise ValueError("`period_users` go with `many_periods`")
    if keyed_users and not period_users:
        raise ValueError("`keyed_users` go with `period_users`")
    statement, ctes, inline, widest = _assembled(plan, kpi_ids, bucket, methods, methods_limit, event_rows, facts)
    if many_periods:
        ctes = spread_over_periods(ctes, inline, hashed_users, period_users, keyed_users, users_by_id,
                                   facts=last_day(widest) if facts else None)
    elif facts:
        regroup = _wanted(plan, kpi_ids) != list(plan.kpis)
        ctes = groupings_singly([(name, _kept_days(body, widest, regroup) if name == SESSION_DAYS else
                               day_values_of_kept(body, SESSION_DAYS, end_date())
                               if name == DAY_VALUES and isinstance(body, exp.Select) else body)
                              for name, body in ctes])
        if not regroup:  # the kept rows as they are: each reader scans them with its own filters, nothing stored
            inline.append(SESSION_DAYS)
    if facts:
        ctes = read_by(ctes, statement)
    return attach(statement, ctes, inline)


def build_facts_query(plan: QueryPlan, clicks: str | None = None) -> exp.Query:
    """The session days (`session_facts.py`) of `start_date` … `end_date` for every KPI of the plan: the rows of
    its statement's `session_days` on those days, every column, their clicks as ids (`sessions.click_id`);
    `clicks` (`last_click`, `click`): instead, the records of those ids that the days' events carry
    (`sessions.click_records`). `FactsUnsupported` when the statement has no `session_days`."""
    _, ctes, inline, _ = _assembled(plan, None, "day", None, 0, event_rows=False, click_ids=True, to_end=True)
    if not any(name == SESSION_DAYS for name, _ in ctes):
        raise FactsUnsupported("no KPI of the plan counts session days")
    if clicks is not None:
        select: exp.Select = click_records(clicks, SCANNED)
        return attach(select, read_by(ctes, select), inline)
    select, kept = facts_statement(ctes)
    return attach(select, kept, inline)


def _as_day(text: exp.Expr) -> exp.Expr:
    return exp.StrToDate(this=text, format=exp.Literal.string(DATE_FORMAT))


def _kept_days(body: exp.Expr, widest: int, regroup: bool) -> exp.Query:
    """The statement's `session_days` (per day) read from the kept session days of the days it reads: as they are
    when the statement counts every KPI of the plan (its columns are theirs), else regrouped to its own."""
    days = exp.Between(this=fact("event_day"), low=_as_day(start_date()), high=_as_day(last_day(widest)))
    source = exp.select().from_(exp.alias_(exp.to_table(FACTS), FACTS_ALIAS, table=True)).where(days)
    return merged_days(body, {"event_day": fact("event_day"), "session_key": fact("session_key")}, source,
                       regroup=regroup)


def _assembled(plan: QueryPlan, kpi_ids: Iterable[str] | None, bucket: Bucket, methods: Sequence[str] | None,
               methods_limit: int, event_rows: bool, click_ids: bool = False, to_end: bool = False,
               ) -> tuple[exp.Query, list[Cte], list[str], int]:
    """(the final SELECT, the CTEs, those to keep inline, the widest conversion's extra days) of the batch
    statement (`build_plan_query`); `click_ids`: the session tables name their clicks by ids (`sessions.click_id`),
    whatever `event_rows` says; `to_end`: the events scanned up to `end_date`, not the conversions' days after it
    (for the session days, which depend on their own day's events only: `build_facts_query`)."""
    event_rows = event_rows and not click_ids
    wanted = _wanted(plan, kpi_ids)
    needed = _with_components(plan, wanted)
    # a KPI's CTEs are named after it; an id that is no plain name gets one that no id can be (a leading "_"),
    # the same in every statement (a kept session day's flags are named after their KPIs: `session_facts.py`)
    prefixes = {kid: kid if _SAFE_ID.fullmatch(kid) else f"_kpi_{hashlib.sha1(kid.encode()).hexdigest()[:12]}"
                for kid in needed}

    cols = EventColumns()
    parts = {kid: measure_parts(q, cols) for kid, q in needed.items() if not isinstance(q, DerivedQuery)}
    cols.transaction_id = any(p.dedupe for p in parts.values())
    widest = max((p.extension for p in parts.values()), default=0)
    if methods is not None:  # before the scan and the session tables: they add what these read
        cols.session_columns |= {"channel", METHOD}
        values = [cols.dimension(name) for name in methods]
    scan = scan_ctes(cols, end_date() if to_end else last_day(widest), batch=True, bucket=bucket,
                     event_rows=event_rows)
    event_columns = scan[-1][1].named_selects  # of `scanned_events`
    ctes: list[Cte] = [*scan]
    inline: list[str] = [RAW, SCANNED]  # each reader scans with its own filters: cheaper than storing every event
    shared, rolled_up = shared_ctes(cols, event_columns, {prefixes[kid]: p for kid, p in parts.items()}, inline,
                                    event_rows=event_rows, click_ids=click_ids)
    ctes += shared

    results: dict[str, str] = {}  # kpi → the CTE holding its result rows
    for kid, q in needed.items():
        prefix = prefixes[kid]
        results[kid] = f"{prefix}__{RESULT}"
        if isinstance(q, DerivedQuery):
            ctes += _derived(q, plan, prefix, prefixes, results)
            continue
        own = parts[kid]
        renamed = {name: f"{prefix}__{name}" for name, _ in own.ctes} | scope_names(own.extension, widest)
        if prefix in rolled_up:
            ctes.append((renamed[AGGREGATED], rolled_up[prefix]))
        else:
            ctes += [(renamed[name], rename_tables(body, renamed)) for name, body in own.ctes]
        source = renamed[AGGREGATED]
        if not own.is_ratio:  # a day with data but none of the KPI's events counts 0 (`zero_days.py`)
            if not any(name == DATA_DAYS for name, _ in ctes):
                ctes += data_days(bucket)
            source = filled_name(renamed[AGGREGATED])
            ctes.append((source, filled(renamed[AGGREGATED])))
        ctes.append((results[kid], result(own.is_ratio, source=source)))

    branches = [exp.select(exp.alias_(exp.Literal.string(kid), "kpi_id"), *RESULT_COLUMNS).from_(results[kid])
                for kid in wanted]
    union: exp.Query = branches[0]
    for branch in branches[1:]:
        union = exp.union(union, branch, distinct=False)
    if methods is not None:
        ctes.append(_methods_values(ctes, values, widest))
        union = exp.union(union, _as_batch_rows(methods_rows(methods, methods_limit)), distinct=False)
    statement = exp.select(*BATCH_COLUMNS).from_(exp.Subquery(this=union, alias=exp.TableAlias(
        this=exp.to_identifier("batch")))) if isinstance(union, exp.Union) else union
    statement = statement.order_by(*BATCH_COLUMNS[:4], copy=False)
    return statement, ctes, inline, widest


def _methods_values(ctes: list[Cte], values: list[exp.Expr], widest: int) -> Cte:
    """`session_day_values` from the statement's own session table of its days (`sessions`, with each session's
    attribution method: every session of `start_date` … `end_date`, from the roll-up or the scan) and its scan
    up to `end_date`."""
    names = {name for name, _ in ctes}
    if SESSIONS not in names:
        raise MethodsUnsupported("no KPI of the statement reads the sessions of its days")
    return DAY_VALUES, day_values(values, SCANNED, upto=end_date() if widest else None)


def _as_batch_rows(rows: exp.Query) -> exp.Select:
    """`methods_rows` (date, method, sessions, dimension, value) in the batch's columns (`METHOD_ROWS`)."""
    text, number = exp.DataType.build("VARCHAR"), exp.DataType.build("DOUBLE")
    return exp.select(
        exp.alias_(exp.cast(exp.null(), text), "kpi_id"), "date", exp.alias_(exp.column("dimension"), "breakdown"),
        exp.alias_(exp.func("COALESCE", exp.column("method"), exp.column("value")), "breakdown_value"),
        exp.alias_(exp.cast(exp.column("sessions"), number), "numerator"),
        exp.alias_(exp.cast(exp.null(), number), "denominator"), exp.alias_(exp.cast(exp.null(), number), "value"),
    ).from_(exp.Subquery(this=rows, alias=exp.TableAlias(this=exp.to_identifier("m"))))


def statement_reach(plan: QueryPlan, kpi_ids: Iterable[str] | None = None) -> int:
    """The days after `end_date` the KPIs' batch statement reads: the widest conversion window among them and
    the KPIs they derive from (`period_parameters.period_parameters` needs it)."""
    needed = _with_components(plan, _wanted(plan, kpi_ids))
    return max((extension_days(q.conversion.window_seconds) for q in needed.values()
                if isinstance(q, ConversionQuery)), default=0)


def render_plan_sql(plan: QueryPlan, dialect: Dialect, kpi_ids: Iterable[str] | None = None,
                    bucket: Bucket = "day", export: ExportShape = NEWEST, many_periods: bool = False,
                    hashed_users: bool = False, period_users: bool = False, keyed_users: bool = False,
                    users_by_id: bool = False, methods: Sequence[str] | None = None, methods_limit: int = 0,
                    facts: bool = False) -> str:
    """The KPIs' batch SQL for `duckdb` or `bigquery`; parameters, `bucket` and `export` as for `render_sql`;
    `many_periods` as for `build_plan_query`; `hashed_users` (DuckDB): sessions and users are keyed by
    `hash(user_pseudo_id)`, not the id's text (`dialects._struct_session_key`, `periods._pair`): exact where no
    two users of the data share a hash, which the caller checks (`warehouse/statements.users_hash_apart`);
    `methods`, `methods_limit`, `facts` (DuckDB) as for `build_plan_query`."""
    if methods is not None and dialect != "duckdb":
        raise ValueError("the attribution methods in the KPIs' statement are DuckDB SQL")
    if many_periods and dialect != "duckdb":
        raise ValueError("many periods in one statement is DuckDB SQL (BigQuery cannot group by a STRUCT)")
    if (hashed_users or facts) and dialect != "duckdb":
        raise ValueError("hashed users and kept session days are DuckDB SQL")
    statement = lower(build_plan_query(plan, kpi_ids, bucket, many_periods, hashed_users, period_users,
                                       keyed_users, users_by_id, methods, methods_limit,
                                       event_rows=export.event_rows and dialect == "duckdb", facts=facts),
                      dialect, copy=False, export=export, hashed_users=hashed_users)
    return _rendered(statement, dialect)


def render_facts_sql(plan: QueryPlan, export: ExportShape = NEWEST, hashed_users: bool = False,
                     clicks: str | None = None) -> str:
    """The DuckDB statement of the plan's session days (`build_facts_query`, or with `clicks` their click records),
    keyed as `render_plan_sql` keys them with the same `hashed_users`."""
    statement = lower(build_facts_query(plan, clicks), "duckdb", copy=False, export=export, hashed_users=hashed_users)
    return _rendered(statement, "duckdb")


def _rendered(statement: exp.Expr, dialect: Dialect) -> str:
    if dialect != "duckdb":  # MATERIALIZED is a DuckDB (and PostgreSQL) hint; BigQuery has no such syntax
        for cte in statement.find_all(exp.CTE):
            cte.set("materialized", None)
    return statement.sql(dialect=dialect, pretty=True)


def _wanted(plan: QueryPlan, kpi_ids: Iterable[str] | None) -> list[str]:
    if kpi_ids is None:
        return list(plan.kpis)
    ids = list(dict.fromkeys(kpi_ids))
    unknown = [k for k in ids if k not in plan.kpis]
    if unknown:
        raise ValueError(f"not in the plan: {', '.join(unknown)}; the plan has: {', '.join(plan.kpis)}")
    if not ids:
        raise ValueError("no KPIs to compute")
    return [k for k in plan.kpis if k in ids]  # plan order: components before the KPIs derived from them


def _with_components(plan: QueryPlan, wanted: list[str]) -> dict[str, KpiQuery]:
    """The wanted KPIs and every KPI they are derived from, in plan order."""
    needed: set[str] = set()
    stack = list(wanted)
    while stack:
        kid = stack.pop()
        if kid not in needed:
            needed.add(kid)
            stack.extend(plan.kpis[kid].components)
    return {kid: q for kid, q in plan.kpis.items() if kid in needed}


def _derived(q: DerivedQuery, plan: QueryPlan, prefix: str, prefixes: dict[str, str],
             results: dict[str, str]) -> list[Cte]:
    """A derived KPI's CTEs: its components' results (only the breakdowns it shows), combined."""
    ctes: list[Cte] = []
    names: dict[str, str] = {}
    shown = {b.name for b in q.breakdowns}
    for kid in q.components:
        component = plan.kpis[kid]
        names[kid] = results[kid]
        if shown_breakdowns(q, component).breakdowns != component.breakdowns:
            names[kid] = f"{prefix}__{prefixes[kid]}"
            keep = [exp.Literal.string(""), *(exp.Literal.string(b) for b in sorted(shown))]
            ctes.append((names[kid], exp.select("*").from_(results[kid]).where(exp.column("breakdown").isin(*keep))))
    row_keys, select = combine(q, plan, names, f"{prefix}__{ROW_KEYS}")
    return [*ctes, (f"{prefix}__{ROW_KEYS}", row_keys), (results[q.kpi_id], select)]
