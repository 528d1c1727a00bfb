"""Which attribution method gave each day's sessions their channel (issue 10 §1), and the loud warning.

Each refresh counts, for the days it checks (and every loaded day the store has no count for yet), the sessions
per day by method (`generator.sql.attribution_methods`: the SQL a KPI by channel runs, up to the session's
click) into the store's `attribution_methods` (date, method, sessions), copied to the serving copy. `kpi
refresh`'s summary, `kpi status` and the dashboard's KPI page (for KPIs by channel, source, medium or campaign)
read it. A day whose sessions all have no source (`none`) gets a one-sentence warning with the fix: every
session on it counts as Direct. `kpi refresh --full` counts every loaded day.

The same statement gives each day's values of the session dimensions the KPI files name (channel, source, …),
kept as those days' observed values (`observed_values.keep_values`): one grouping by session for both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

import duckdb
import pyarrow as pa

from generator.plan.queries import KpiQuery, QueryPlan
from generator.rules.value_uses import Subject
from generator.sql.attribution import TRAFFIC_COLUMNS

from .attribution_summary import AttributionSummary, summarize
from .connection import transaction
from .observed_values import MAX_VALUES, keep_values
from .refresh_days import contiguous_ranges
from .statements import methods_sql

METHOD_VALUES = MAX_VALUES + 1
"""The values a day of each session dimension read with the methods: one more than is kept, so that a day with
more says so (`observed_values.keep_values`)."""


def methods_days(store: duckdb.DuckDBPyConnection, days: Iterable[str]) -> list[str]:
    """The YYYYMMDD days `refresh_attribution` counts: `days` and the loaded days not counted yet, sorted."""
    missing = store.execute("SELECT event_date FROM loaded_days WHERE strptime(event_date, '%Y%m%d')::DATE NOT IN "
                            "(SELECT date FROM attribution_methods)").fetchall()
    return sorted(set(days) | {d for (d,) in missing})


def counted_days(batch_rows: pa.Table, days: Iterable[str]) -> dict[str, list[dict[str, object]]]:
    """The rows the methods statement gives for each of the YYYYMMDD `days`, from a KPI statement over days
    holding them that counted them too (`batch.METHOD_ROWS`); a day without any has none."""
    out: dict[str, list[dict[str, object]]] = {d: [] for d in days}
    for r in batch_rows.to_pylist():
        day = r["date"].strftime("%Y%m%d")
        if day not in out:
            continue
        if r["breakdown"] is None:
            row = {"date": r["date"], "method": r["breakdown_value"], "sessions": int(r["numerator"]),
                   "dimension": None, "value": None}
        else:
            row = {"date": r["date"], "method": None, "sessions": None, "dimension": r["breakdown"],
                   "value": r["breakdown_value"]}
        out[day].append(row)
    return out


def refresh_attribution(store: duckdb.DuckDBPyConnection, days: list[str], subjects: Sequence[Subject] = (),
                        counted: Mapping[str, list[dict[str, object]]] | None = None) -> AttributionSummary:
    """Count the YYYYMMDD `days` (and loaded days not counted yet) into `attribution_methods` in one transaction;
    return the summary of those days.

    `subjects`: session dimensions (channel, source, …) whose values a day the same statement reads and the same
    transaction keeps as those days' observed values (`observed_values.keep_values`), so that the KPI files'
    check reads no day again: one grouping of the events by session for both. `counted`: the rows of days the
    KPI statements of this refresh counted already (`counted_days`), with the same `subjects`."""
    todo = methods_days(store, days)
    if not todo:
        return AttributionSummary()
    counted = counted or {}
    rest = [d for d in todo if d not in counted]
    names = [s.name for s in subjects]
    sql = methods_sql(store, names, METHOD_VALUES) if rest else ""
    found = [store.sql(sql, params={"start_date": s, "end_date": e}).to_arrow_table()
             for s, e in contiguous_ranges(rest)]
    listed = [r for table in found for r in table.to_pylist()]  # a few rows a day
    listed += [r for d in todo if d in counted for r in counted[d]]
    values: dict[Subject, dict[str, list[str]]] = {s: {d: [] for d in todo} for s in subjects}
    of_name = {s.name: s for s in subjects}
    for r in listed:  # without subjects, the methods' columns only
        if r.get("dimension") is not None:
            values[of_name[r["dimension"]]][r["date"].strftime("%Y%m%d")].append(str(r["value"]))
    counts = [(r["date"], r["method"], r["sessions"]) for r in listed if r.get("dimension") is None]
    dates = pa.table({"date": pa.array([dt.datetime.strptime(d, "%Y%m%d").date() for d in todo], pa.date32())})
    store.register("method_days", dates)
    try:
        with transaction(store):
            store.execute("DELETE FROM attribution_methods WHERE date IN (SELECT date FROM method_days)")
            if counts:
                store.executemany("INSERT INTO attribution_methods (date, method, sessions) VALUES (?, ?, ?)", counts)
            if values:
                keep_values(store, values)
    finally:
        store.unregister("method_days")
    return summarize(counts)


def publish_attribution(store: duckdb.DuckDBPyConnection, plan: QueryPlan) -> None:
    """Create `serving.attribution_methods` and `serving.kpi_attribution` (the KPIs whose numbers depend on a
    session's source, `kpis_using_attribution`); the serving file is attached as `serving`."""
    store.execute("CREATE TABLE serving.attribution_methods AS SELECT * FROM attribution_methods ORDER BY date, method")
    store.register("src_kpi_attribution", pa.table({"kpi_id": pa.array(sorted(kpis_using_attribution(plan)),
                                                                           pa.string())}))
    try:
        store.execute("CREATE TABLE serving.kpi_attribution AS SELECT * FROM src_kpi_attribution")
    finally:
        store.unregister("src_kpi_attribution")


def kpis_using_attribution(plan: QueryPlan) -> set[str]:
    """The KPIs whose numbers depend on a session's source: a breakdown or a filter on channel, source, medium
    or campaign (their components' included, for derived KPIs)."""
    out: set[str] = set()
    for kid, q in plan.kpis.items():
        names = {b.name for b in q.breakdowns} | _filter_dimensions(q)
        if names & TRAFFIC_COLUMNS or any(c in out for c in q.components):
            out.add(kid)
    return out


def _filter_dimensions(q: KpiQuery) -> set[str]:
    return {f.name for m in q.measures() for f in m.filters if f.subject == "dimension"}
