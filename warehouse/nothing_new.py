"""A refresh with nothing new does (almost) nothing (issue 13): it says so, and every value stays as it is.

The last refresh (`refresh_log`) already counted everything the store holds when, since it:

- no day was loaded or reloaded (`loaded_days.loaded_at`), nor a Data API report (`ga4_api_reports`), and as
  many days are loaded as it counted: so the last loaded day, where the dashboard periods end, is the same
  (and the stored periods do end there);
- the events catalog's spec is the same (`spec_hash`: the data quality checks), and every KPI of the plan
  was refreshed by it, on DuckDB, with the definition the KPI has now: no KPI is new, changed, or failed then;
- no loaded day is left to check, count per attribution method or stamp (a store a migration upgraded);
- the KPIs whose weeks and months are stored are those that want them now (`period_values.calendar_kpis`: a
  KPI whose trend turned weekly gets its weeks, one turned daily loses them).

`kpi refresh` then computes nothing (`--full` still does), and publishes the serving copy again only when
that copy is missing or behind (`serving.serving_current`: published before that refresh, from other KPI
files, or by another version). A refresh that stopped half-way (its `pending` marker left behind) is not
"nothing new": the next one runs in full, as before.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import duckdb

from generator.issues import Issue
from generator.parse.catalog import KpiCatalog
from generator.plan.queries import QueryPlan

from . import pending
from .day_tables import provisional_days
from .first_seen import unrecorded
from .kpi_values import SOURCE
from .period_values import CALENDAR, calendar_kpis
from .quality_days import checks_hash, days_to_check
from .refresh import RefreshSummary
from .refresh_days import format_day
from .serving import publish_serving, serving_current
from .serving_contract import serving_path


def unchanged_since(con: duckdb.DuckDBPyConnection, plan: QueryPlan, spec: str, store_path: Path) -> dt.datetime | None:
    """When the last refresh already counted everything, its time (naive UTC); else None."""
    if pending.marker_path(serving_path(store_path)).exists():  # a refresh stopped half-way: finish its work
        return None
    last = con.execute("SELECT refreshed_at, days, spec_hash FROM refresh_log "
                       "ORDER BY refreshed_at DESC LIMIT 1").fetchall()
    if not last:
        return None
    at, days, last_spec = last[0]
    if last_spec != spec:
        return None
    count, newest, last_day = con.execute(
        "SELECT count(*), max(loaded_at), max(event_date) FROM loaded_days").fetchall()[0]
    if count != days or (newest is not None and newest > at):
        return None
    if con.execute("SELECT count(*) FROM ga4_api_reports WHERE loaded_at > $at", {"at": at}).fetchall()[0][0]:
        return None
    state = {k: (h, when) for k, h, when in con.execute(
        "SELECT kpi_id, definition_hash, refreshed_at FROM kpi_refresh_state WHERE source = $s", {"s": SOURCE}
    ).fetchall()}
    if any(state.get(kid) != (q.definition_hash, at) for kid, q in plan.kpis.items()):
        return None
    other_engine = con.execute("SELECT count(*) FROM (SELECT 1 FROM kpi_values WHERE source = $s "
                               "AND engine <> 'duckdb' LIMIT 1)", {"s": SOURCE}).fetchall()[0][0]
    periods_end = con.execute("SELECT max(period_end) FROM kpi_period_values WHERE grain = 'period'").fetchall()[0][0]
    if other_engine or (periods_end is not None and last_day is not None and format_day(periods_end) != last_day):
        return None
    if _work_left(con, spec) or _calendar_changed(con, plan):
        return None
    return at


def _calendar_changed(con: duckdb.DuckDBPyConnection, plan: QueryPlan) -> bool:
    """True when a KPI has stored weeks (months) it no longer wants, or wants them and has none though it counts
    something over the dashboard's periods (a KPI counting nothing anywhere stores no rows at all)."""
    stored = set(con.execute("SELECT DISTINCT grain, kpi_id FROM kpi_period_values WHERE list_contains($g, grain)",
                             {"g": list(CALENDAR)}).fetchall())
    counting = {kid for (kid,) in con.execute("SELECT DISTINCT kpi_id FROM kpi_period_values "
                                              "WHERE grain = 'period'").fetchall()}
    wanted = {(grain, kid) for grain in CALENDAR for kid in calendar_kpis(plan, grain)}
    return bool(stored - wanted) or any(kid in counting and (grain, kid) not in stored for grain, kid in wanted)


def _work_left(con: duckdb.DuckDBPyConnection, spec: str) -> bool:
    """True when a refresh still has something to do for days loaded before the last one (a store upgraded by a
    migration: days not checked with the current checks, not counted per attribution method, not stamped,
    or whose deduplicated purchases are not recorded)."""
    loaded = {d: at for d, at in con.execute("SELECT event_date, loaded_at FROM loaded_days").fetchall()}
    if not loaded:
        return False
    if days_to_check(con, loaded, checks_hash(spec)) or unrecorded(con):
        return True
    uncounted = con.execute("SELECT count(*) FROM loaded_days WHERE strptime(event_date, '%Y%m%d')::DATE NOT IN "
                            "(SELECT date FROM attribution_methods)").fetchall()[0][0]
    return bool(uncounted) or not con.execute("SELECT count(*) FROM event_spec_versions").fetchall()[0][0]


def keep_unchanged(con: duckdb.DuckDBPyConnection, store_path: Path, catalog: KpiCatalog, plan: QueryPlan,
                   since: dt.datetime, findings: list[Issue] | None = None) -> RefreshSummary:
    """The refresh when nothing is new since `since`: the serving copy published again if it is behind (with
    `findings`, the KPI files checked against the data; None: checked there), nothing computed, nothing
    written to the store."""
    clock, cpu = time.perf_counter(), time.process_time()
    if not serving_current(store_path, since, catalog):
        serving = serving_path(store_path)
        refresh_id = pending.mark(serving)
        publish_serving(con, store_path, catalog, plan, refresh_id, findings)
        pending.clear(serving, refresh_id)
    seconds, cpu = time.perf_counter() - clock, time.process_time() - cpu
    phases = {"kpis": 0.0, "quality": 0.0, "write": round(seconds, 3), "kpis_cpu": 0.0, "quality_cpu": 0.0,
              "write_cpu": round(cpu, 3), "attribution": 0.0}
    return RefreshSummary(len(plan.kpis), 0, 0, round(seconds, 2), {}, phases, provisional=provisional_days(con),
                          unchanged_since=since.strftime("%Y-%m-%d %H:%M:%S"))
