"""Exact KPI values over periods, for the KPIs whose days do not add up (issue 10 §5).

A KPI that counts distinct users or sessions (`users`, `users_with`, `new_users`, sessions, a conversion per
user or session, a ratio or formula over them: `generator.sql.buckets.counts_distinct_units`) has a value
over a week or a month that is not the sum of its days: a user active on three days is one user of the week.
`kpi refresh` therefore runs the KPIs' batch statement with a bucket (`buckets.py`) and stores the rows in
`kpi_period_values`, in the same transaction as the daily values:

- `grain = 'period'`: each dashboard preset (last 7 / 28 / 90 days, month and quarter to date) ending at the
  last loaded day, and its comparison periods (previous period, same period last year), from
  `warehouse/periods.py`, the one place that says what a preset means; those outside the loaded days are
  skipped, those with no day loaded since the last refresh are kept; the others are counted together, in as
  few statements as fit in DuckDB's memory (`generator/sql/periods.py`: the events and the attribution lookback
  read once for all the ranges of a statement), those that differ only before the first loaded day once (they
  count the same events);
- `grain = 'week'` (ISO, from Monday) and `'month'`: the calendar weeks and months of the loaded days (the
  first and last cut to them), recomputed from the bucket holding the earliest day loaded since the last
  refresh onwards; when that is one week (one month), as after loading the next day, it is counted in the
  dashboard periods' statement, as one more period. Months are stored for every such KPI (a whole month is
  the range people pick most, and the report most teams send); weeks only for the KPIs whose file sets
  `time_grain: week` (`calendar_kpis`), the only place a week's value is shown (the KPI page's weekly
  trend): the weeks' statement of a full refresh took 15 % of it at 5M events, for values nothing read.
  `kpi values --grain week` counts any KPI's weeks from the events, as before.

`period_start` … `period_end` is exactly the days counted. Counts and sums keep adding their days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Literal

import duckdb
import pyarrow as pa

from generator.plan.queries import ConversionQuery, QueryPlan
from generator.sql import sql_parameters
from generator.sql.batch import statement_reach
from generator.sql.buckets import counts_distinct_units
from generator.sql.conversions import extension_days
from generator.sql.period_parameters import in_statements, keyed, parameters_in, period_parameters
from generator.sql.periods import PERIOD_USERS, USER_KEY, PeriodsUnsupported

from .connection import statement_events, without_optimizer
from .day_parts import FreshDays, day_part_kpis, shifted_by_days
from .period_shift import (
    LISTED,
    Counted,
    counts_something,
    differing_days,
    list_shift_users,
    plan_shifts,
    shifted_rows,
)
from .period_spans import spanned_periods
from .periods import comparison_period, month_end, resolve_period
from .refresh_days import parse_day
from .session_facts import facts_ready
from .shift_sizes import listed_spreads
from .statements import plan_sql, store_users, users_hash_apart

PRESETS = ("7d", "28d", "90d", "mtd", "qtd")
COMPARISONS = ("previous", "year")
CALENDAR = ("week", "month")
EVERY_KPI_CALENDAR = ("month",)
"""The calendar grains stored for every distinct-count KPI; the others (`SOME_KPIS_CALENDAR`) only for the KPIs
whose trend is at that grain (their file's `time_grain`)."""
SOME_KPIS_CALENDAR = tuple(grain for grain in CALENDAR if grain not in EVERY_KPI_CALENDAR)
FEW_USERS = 0.2
"""A statement over listed users reads their events by their ids (`plan_sql(..., users_by_id=True)`) when they
are at most this share of the store's users: the scan then skips the others' rows (at 5M events, 16 % of the
users: 2.0 -> 1.75 CPU s; 29 %: 7.5 -> 8.1, where the hashes stay)."""
_COLUMNS = {"kpi_id": pa.string(), "grain": pa.string(), "period_start": pa.date32(), "period_end": pa.date32(),
            "breakdown": pa.string(), "breakdown_value": pa.string(), "value": pa.float64(),
            "numerator": pa.float64(), "denominator": pa.float64(), "definition_hash": pa.string()}

def distinct_kpis(plan: QueryPlan) -> list[str]:
    return [kid for kid in plan.kpis if counts_distinct_units(plan, kid)]


def calendar_kpis(plan: QueryPlan, grain: str) -> list[str]:
    """The distinct-count KPIs whose exact values over each calendar `grain` (week, month) `kpi refresh` stores:
    every one for a grain of `EVERY_KPI_CALENDAR`, else those whose trend is at that grain (`time_grain`)."""
    ids = distinct_kpis(plan)
    return ids if grain in EVERY_KPI_CALENDAR else [kid for kid in ids if plan.kpis[kid].time_grain == grain]


def dashboard_periods(anchor: dt.date) -> list[tuple[dt.date, dt.date]]:
    """Every preset ending at `anchor` and its comparison periods, as the dashboard resolves them."""
    out: set[tuple[dt.date, dt.date]] = set()
    for preset in PRESETS:
        period = resolve_period(preset, anchor)
        out.add((period.start, period.end))
        for mode in COMPARISONS:
            earlier = comparison_period(period, preset, mode)
            if earlier is not None:
                out.add((earlier.start, earlier.end))
    return sorted(out)


def bucket_start(day: dt.date, grain: str) -> dt.date:
    return day - dt.timedelta(days=day.weekday()) if grain == "week" else day.replace(day=1)


def bucket_end(start: dt.date, grain: str) -> dt.date:
    return start + dt.timedelta(days=6) if grain == "week" else month_end(start)


def run_bucketed(con: duckdb.DuckDBPyConnection, plan: QueryPlan, kpi_ids: list[str], grain: str,
                 start: dt.date, end: dt.date, sql: str | None = None) -> list[dict[str, object]]:
    """The KPIs' rows over `start` … `end` per `grain` (day, week, month or period), each with the days it counts.

    `sql`: the statement already rendered for these KPIs and grain (rendering takes longer than a small run).
    """
    sql = sql or plan_sql(con, plan, kpi_ids, bucket=statement_bucket(grain))  # type: ignore[arg-type]
    cursor = con.execute(sql, sql_parameters(start, end))
    names = [d[0] for d in cursor.description]
    return bucket_rows((dict(zip(names, values, strict=True)) for values in cursor.fetchall()), grain, start, end)


def statement_bucket(grain: str) -> str:
    """The `bucket` of the batch statement that counts values of `grain`."""
    return grain if grain in (*CALENDAR, "period") else "day"


def bucket_rows(result: Iterable[dict[str, object]], grain: str, start: dt.date,
                end: dt.date) -> list[dict[str, object]]:
    """A bucketed statement's rows (any engine) with `grain` and the days each counts, `period_start` … `period_end`."""
    bucket = statement_bucket(grain)
    rows = []
    for row in result:
        row = dict(row)
        first: dt.date = row.pop("date")  # type: ignore[assignment]
        if first > end:  # a conversion's extra days (never a bucket of their own)
            continue
        last = end if grain == "period" else min(end, first if bucket == "day" else bucket_end(first, grain))
        rows.append({**row, "grain": grain, "period_start": max(first, start), "period_end": last})
    return rows


@dataclass(frozen=True)
class PeriodJob:
    """One bucketed statement to run: the distinct-count KPIs `kpi_ids` over `start` … `end` per `grain`."""

    grain: str
    start: dt.date
    end: dt.date
    kpi_ids: tuple[str, ...]


def compute_period_values(con: duckdb.DuckDBPyConnection, plan: QueryPlan, loaded: dict[str, dt.datetime],
                          full: bool = False, also: Iterable[str] = (), fresh: FreshDays | None = None,
                          ) -> tuple[pa.Table, dict[str, dt.date]]:
    """(the rows to store, per calendar grain the first period_start they replace), counted in DuckDB.

    The dashboard periods, weeks and months are counted together, in as few statements as fit in memory
    (`run_periods`; the events and the attribution lookback read once per statement), unless the plan's KPIs
    need one statement per period and grain.
    """
    jobs, rows, since = plan_period_values(con, plan, loaded, full, also=also)
    if not jobs:
        return period_table(rows, plan), since
    # each week and month of a calendar job is a range like a dashboard period: the same days, counted the same
    # way (every event of the range in the one bucket), so the same numbers; counted with the periods, a range
    # both are (the month to date is this month's bucket) is counted once. A range starting before the first
    # loaded day counts what the same range from that day counts (no day before it, nor its lookback or
    # history, holds an event): ranges that differ only there (last 90 days and quarter to date in a young
    # warehouse) are counted once too.
    first = parse_day(min(loaded))
    ranges = {job: [(job.start, job.end)] if job.grain == "period" else calendar_buckets(job) for job in jobs}
    # the KPIs each range is counted for (a range two jobs share, for those of both), ranges of the same KPIs
    # counted together
    kpis_of: dict[tuple[dt.date, dt.date], set[str]] = {}
    for job, rs in ranges.items():
        for a, b in rs:
            kpis_of.setdefault((max(a, first), b), set()).update(job.kpi_ids)
    groups: dict[tuple[str, ...], list[tuple[dt.date, dt.date]]] = {}
    ordered = distinct_kpis(plan)
    for found, of_range in sorted(kpis_of.items()):
        groups.setdefault(tuple(k for k in ordered if k in of_range), []).append(found)
    counted: dict[tuple[dt.date, dt.date], list[dict[str, object]]] = {}
    try:
        for group, wanted in groups.items():
            ids = list(group)
            done = {} if full else shifted_periods(con, plan, ids, wanted, loaded, also, fresh)
            rest = [r for r in wanted if r not in done]
            counted |= done | (spanned_periods(con, plan, ids, rest, list(loaded)) or run_periods(con, plan, ids, rest))
    except PeriodsUnsupported:  # two conversion windows: one statement per period and calendar grain, as before
        for job in jobs:
            rows += run_bucketed(con, plan, list(job.kpi_ids), job.grain, job.start, job.end)
        return period_table(rows, plan), since
    rows += [{**row, "grain": job.grain, "period_start": a, "period_end": b}
             for job, rs in ranges.items() for a, b in rs for row in counted[(max(a, first), b)]
             if row["kpi_id"] in job.kpi_ids]
    return period_table(rows, plan), since


def shifted_periods(con: duckdb.DuckDBPyConnection, plan: QueryPlan, kpi_ids: list[str],
                    wanted: list[tuple[dt.date, dt.date]], loaded: dict[str, dt.datetime], also: Iterable[str] = (),
                    fresh: FreshDays | None = None) -> dict[tuple[dt.date, dt.date], list[dict[str, object]]]:
    """The rows of the ranges of `wanted` that a stored range shifts to (`period_shift.py`), by range; the
    others are left out, to be counted in full. With `fresh` (this refresh's daily values), the KPIs whose ranges
    add up their days but for a few users are moved by the days' values (`day_parts.py`), the others by their
    listed users' parts."""
    shifts, cap = plan_shifts(con, plan, kpi_ids, wanted, loaded, also)
    if not shifts or cap is None:
        return {}
    numbered = fresh is not None and facts_ready(con, plan) and users_hash_apart(con)  # users as numbers (the checks)
    by_days = day_part_kpis(plan, kpi_ids) if numbered else []
    moved = shifted_by_days(con, plan, by_days, shifts, cap, fresh) if by_days and fresh is not None else None
    rest = kpi_ids if moved is None else [kid for kid in kpi_ids if kid not in by_days]
    out: dict[tuple[dt.date, dt.date], list[dict[str, object]]] = {new: list(moved[new]) if moved else []
                                                                    for new in shifts}
    if rest:
        reach = statement_reach(plan, rest)
        list_shift_users(con, {new: (old, differing_days(old, new, reach, cap)) for new, (old, _) in shifts.items()})
        try:
            stored_as_was = dict.fromkeys((old, True) for old, _ in shifts.values())  # each stored range once
            counted = run_shift(con, plan, rest, [*stored_as_was, *((new, False) for new in shifts)], cap)
        finally:
            con.execute(f"DROP TABLE IF EXISTS {LISTED}")
        for new, (old, stored) in shifts.items():
            base = [row for row in _stored_range(con, stored) if row["kpi_id"] in rest]
            out[new] += shifted_rows(plan, base, counted[(old, True)], counted[(new, False)])
    return {new: [{**row, "grain": "period", "period_start": new[0], "period_end": new[1]} for row in rows]
            for new, rows in out.items()}


def _stored_range(con: duckdb.DuckDBPyConnection, period: tuple[dt.date, dt.date]) -> list[dict[str, object]]:
    """The stored rows of exactly these days, of one grain (a week that is also a dashboard period is stored
    under both, with the same numbers)."""
    (grain,) = con.execute("SELECT min(grain) FROM kpi_period_values WHERE period_start = $s AND period_end = $e",
                           {"s": period[0], "e": period[1]}).fetchall()[0]
    return _stored(con, grain, *period)


def calendar_buckets(job: PeriodJob) -> list[tuple[dt.date, dt.date]]:
    """The weeks (months) of a calendar job, the first and last cut to its days."""
    out: list[tuple[dt.date, dt.date]] = []
    start = bucket_start(job.start, job.grain)
    while start <= job.end:
        out.append((max(start, job.start), min(bucket_end(start, job.grain), job.end)))
        start = bucket_end(start, job.grain) + dt.timedelta(days=1)
    return out


def run_periods(con: duckdb.DuckDBPyConnection, plan: QueryPlan, kpi_ids: list[str],
                periods: list[tuple[dt.date, dt.date]], budget: int | None = None,
                listed: dict[tuple[dt.date, dt.date], int] | None = None,
                ) -> dict[tuple[dt.date, dt.date], list[dict[str, object]]]:
    """The KPIs' rows (grain `period`) over each of `periods`, by period, in as few statements as fit in
    DuckDB's memory (`in_statements`; `budget`: the spread events one may hold, default from the memory limit);
    raises `PeriodsUnsupported`. `listed`: each period's part of its numbers that its users in the table
    `listed_users` (`period_start`, `period_end`, `capped` FALSE, `user_pseudo_id`) make, with the events each
    period spreads over them (`period_spans.py`)."""
    counted = _count(con, plan, kpi_ids, [(period, False) for period in periods], budget, None, listed is not None,
                     listed=None if listed is None else {(period, False): n for period, n in listed.items()})
    return {period: counted[(period, False)] for period in periods}


def run_shift(con: duckdb.DuckDBPyConnection, plan: QueryPlan, kpi_ids: list[str], entries: list[Counted],
              cap: dt.date | None = None) -> dict[Counted, list[dict[str, object]]]:
    """Each range's part of its numbers that its users in the table `listed_users` (`period_start`, `period_end`,
    `capped`, `user_pseudo_id`: `period_shift.list_shift_users`) make, a range `(period, True)` as if no day after
    `cap` were loaded (as the last refresh counted it), `(period, False)` with every loaded day: both in the same
    statements, which read the users' events once, sized by the events each range spreads over its own users."""
    # the kept session days key a user by a number only where no two users share a hash
    spreads = listed_spreads(con, statement_reach(plan, kpi_ids), cap, facts_ready(con, plan) and users_hash_apart(con))
    return _count(con, plan, kpi_ids, entries, None, cap, True, listed=spreads)


def _count(con: duckdb.DuckDBPyConnection, plan: QueryPlan, kpi_ids: list[str], entries: list[Counted],
           budget: int | None, cap: dt.date | None, of_users: bool, listed: dict[Counted, int] | None = None,
           ) -> dict[Counted, list[dict[str, object]]]:
    """The rows of each of `entries` (a range, and whether it is counted up to `cap`), over its users in
    `listed_users` when `of_users`, in as few statements as fit in memory; `listed`: the events each entry spreads
    over its users (else each range's events, from the loaded days)."""
    rows: dict[Counted, list[dict[str, object]]] = {entry: [] for entry in entries}
    if not entries:
        return rows
    facts = facts_ready(con, plan)

    def text(by_id: bool = False) -> str:  # the same texts every day
        return plan_sql(con, plan, kpi_ids, bucket="period", many_periods=True, period_users=of_users,
                        users_by_id=by_id, facts=facts)

    reach = statement_reach(plan, kpi_ids)
    per_day = {} if listed is not None else _per_day(con, "SELECT event_date, rows FROM loaded_days")
    of_key = keyed(entries)
    ranges = {key: period for key, (period, _) in of_key.items()}
    caps = {key: cap for key, (_, capped) in of_key.items() if capped and cap is not None}
    budget = statement_events(con) if budget is None else budget
    spreads = None if listed is None else (lambda key: listed.get(of_key[key], 0))
    for group in in_statements(ranges, lambda day: per_day.get(day, 0), budget, reach, spreads):
        parameters = period_parameters({key: ranges[key] for key in group}, reach,
                                       {key: caps[key] for key in group if key in caps})
        by_id = False
        if of_users:
            con.execute(f"""
                CREATE OR REPLACE TEMP TABLE {PERIOD_USERS} AS
                SELECT DISTINCT g.k AS period_day, l.user_pseudo_id, hash(l.user_pseudo_id) AS {USER_KEY}
                FROM {LISTED} l JOIN (SELECT unnest($keys) AS k, unnest($starts) AS s, unnest($ends) AS e,
                                             unnest($capped) AS c) g
                    ON l.period_start = g.s AND l.period_end = g.e AND l.capped = g.c
            """, {"keys": group, "starts": [ranges[k][0] for k in group], "ends": [ranges[k][1] for k in group],
                  "capped": [of_key[k][1] for k in group]})
            (users,) = con.execute(f"SELECT count(DISTINCT user_pseudo_id) FROM {PERIOD_USERS}").fetchall()[0]
            by_id = 0 < users <= FEW_USERS * store_users(con)  # no users listed: the hashes' text
        sql = text(by_id)
        try:
            # Of listed users, DuckDB guesses the events spread over the ranges fewer than the (range, user)
            # pairs and builds the semi join's hash table on them, every column of millions of rows: at 5M
            # events that join took 2.7 of the biggest statement's 15 CPU s, 0.2 built on the pairs.
            with without_optimizer(con, "build_side_probe_side") if of_users else nullcontext():
                cursor = con.execute(sql, parameters_in(sql, parameters))
                names = [d[0] for d in cursor.description]
                found = cursor.fetchall()
        finally:
            if of_users:
                con.execute(f"DROP TABLE IF EXISTS {PERIOD_USERS}")
        for values in found:
            row = dict(zip(names, values, strict=True))
            key = row.pop("date")
            if key in group:  # not a conversion's extra days (NULL: never a range of their own)
                entry = of_key[key]
                rows[entry].append({**row, "grain": "period", "period_start": entry[0][0], "period_end": entry[0][1]})
    return rows


def _per_day(con: duckdb.DuckDBPyConnection, sql: str) -> dict[dt.date, int]:
    return {parse_day(day): int(n) for day, n in con.execute(sql).fetchall()}


def plan_period_values(con: duckdb.DuckDBPyConnection, plan: QueryPlan, loaded: dict[str, dt.datetime],
                       full: bool = False, engine: str = "duckdb", previous: dt.datetime | None | Literal[True] = True,
                       also: Iterable[str] = (),
                       ) -> tuple[list[PeriodJob], list[dict[str, object]], dict[str, dt.date]]:
    """(the statements to run, the stored rows kept as they are, per calendar grain the first period_start
    the new rows replace), for the engine `engine` (`duckdb`, `bigquery`), which runs the statements.

    Only what can have changed is counted again: a period none of whose days (nor the days a conversion's
    window reaches after it) was loaded since the last refresh (`previous`; True: the last in refresh_log),
    stored with the KPIs' current definitions by the same engine, is kept as it is (so refreshing twice counts
    nothing again); `full` counts everything. `also`: more YYYYMMDD days to treat as loaded since the last
    refresh (days whose deduplicated purchases changed: `first_seen.py`).
    """
    ids = distinct_kpis(plan)
    hashes = {kid: plan.kpis[kid].definition_hash for kid in ids}
    jobs: list[PeriodJob] = []
    kept: list[dict[str, object]] = []
    since: dict[str, dt.date] = {}
    if not ids or not loaded:
        return jobs, kept, since
    first, last = parse_day(min(loaded)), parse_day(max(loaded))
    refreshed: dt.datetime | None = (con.execute("SELECT max(refreshed_at) FROM refresh_log").fetchall()[0][0]
                                     if previous is True else previous)
    also = set(also)
    fresh = sorted(parse_day(d) for d, at in loaded.items()
                   if full or refreshed is None or at > refreshed or d in also)
    reach = dt.timedelta(days=max((extension_days(q.conversion.window_seconds) for q in plan.kpis.values()
                                   if isinstance(q, ConversionQuery)), default=0))
    stored: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for kid, grain, digest, by in con.execute("SELECT DISTINCT kpi_id, grain, definition_hash, engine "
                                              "FROM kpi_period_values").fetchall():
        stored.setdefault((kid, grain), set()).add((digest, by))

    def current(grain: str, kids: list[str]) -> bool:  # each KPI's stored rows of the grain: today's, this engine
        return all(stored.get((kid, grain)) == {(hashes[kid], engine)} for kid in kids)

    # a day loaded late can hold a user's first event ever, so a first-ever KPI's later periods change too
    since_first = any(m.first_ever for kid in ids for m in plan.kpis[kid].measures())
    kept_periods = set() if full or not current("period", ids) else {
        (a, b) for a, b in con.execute("SELECT DISTINCT period_start, period_end FROM kpi_period_values "
                                       "WHERE grain = 'period'").fetchall()
        if not any((since_first or a <= day) and day <= b + reach for day in fresh)}
    for start, end in dashboard_periods(last):
        if end < first or start > last:
            continue
        if (start, end) in kept_periods:
            kept += _stored(con, "period", start, end)
        else:
            jobs.append(PeriodJob("period", start, end, tuple(ids)))
    for grain in CALENDAR:
        kids = calendar_kpis(plan, grain)
        if not kids:
            continue
        if full or not current(grain, kids):  # also a KPI whose trend is newly at this grain: all its buckets
            since[grain] = first
        elif fresh:
            since[grain] = max(first, bucket_start(fresh[0] - reach, grain))
        else:
            continue  # nothing loaded since: the stored weeks and months stand
        jobs.append(PeriodJob(grain, since[grain], last, tuple(kids)))
    return jobs, kept, since


def _stored(con: duckdb.DuckDBPyConnection, grain: str, start: dt.date, end: dt.date) -> list[dict[str, object]]:
    cursor = con.execute(f"SELECT {', '.join(_COLUMNS)} FROM kpi_period_values WHERE grain = $g "
                         "AND period_start = $s AND period_end = $e", {"g": grain, "s": start, "e": end})
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def period_table(rows: list[dict[str, object]], plan: QueryPlan, engine: str = "duckdb") -> pa.Table:
    """The rows in `kpi_period_values`' shape (less `computed_at`), with the KPIs' current definition hashes."""
    hashes = {kid: plan.kpis[kid].definition_hash for kid in distinct_kpis(plan)}
    # not the stored rows of a KPI no longer computed, nor rows that count nothing (what a shift cannot know of)
    rows = [row for row in rows if str(row["kpi_id"]) in hashes and counts_something(plan, row)]
    for row in rows:
        row["definition_hash"] = hashes[str(row["kpi_id"])]
        row["engine"] = engine
    columns = {**_COLUMNS, "engine": pa.string()}
    return pa.Table.from_pylist([{k: r[k] for k in columns} for r in rows], schema=pa.schema(list(columns.items())))


def write_period_values(con: duckdb.DuckDBPyConnection, plan: QueryPlan, table: pa.Table,
                        since: dict[str, dt.date], now: dt.datetime) -> None:
    """Replace the stored period values (inside the refresh's transaction); unchanged rows keep `computed_at`."""
    con.register("staged_period_values", table)
    con.register("period_kpis", pa.table({"kpi_id": pa.array(distinct_kpis(plan), pa.string())}))
    kept = [(grain, kid) for grain in CALENDAR for kid in calendar_kpis(plan, grain)]
    con.register("calendar_kpis", pa.table({"grain": pa.array([g for g, _ in kept], pa.string()),
                                            "kpi_id": pa.array([k for _, k in kept], pa.string())}))
    try:
        con.execute("""
            CREATE OR REPLACE TEMP TABLE merged_period_values AS
            SELECT n.*, CASE WHEN o.kpi_id IS NOT NULL AND o.value IS NOT DISTINCT FROM n.value
                    AND o.numerator IS NOT DISTINCT FROM n.numerator
                    AND o.denominator IS NOT DISTINCT FROM n.denominator AND o.definition_hash = n.definition_hash
                THEN o.computed_at ELSE $now END AS computed_at
            FROM staged_period_values n
            LEFT JOIN kpi_period_values o USING (kpi_id, grain, period_start, period_end, breakdown, breakdown_value)
        """, {"now": now})
        con.execute("DELETE FROM kpi_period_values WHERE grain = 'period' "
                    "OR kpi_id NOT IN (SELECT kpi_id FROM period_kpis)")
        # a KPI whose trend is no longer weekly: its weeks, no longer kept current, go
        con.execute("DELETE FROM kpi_period_values o WHERE list_contains($calendar, grain) AND NOT EXISTS ("
                    "SELECT 1 FROM calendar_kpis c WHERE c.grain = o.grain AND c.kpi_id = o.kpi_id)",
                    {"calendar": list(CALENDAR)})
        for grain, start in since.items():
            con.execute("DELETE FROM kpi_period_values WHERE grain = $g AND period_start >= $s", {"g": grain, "s": start})
        con.execute("INSERT INTO kpi_period_values BY NAME SELECT * FROM merged_period_values")
        con.execute("DROP TABLE merged_period_values")
    finally:
        con.unregister("staged_period_values")
        con.unregister("period_kpis")
        con.unregister("calendar_kpis")
