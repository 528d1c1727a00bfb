"""Which attribution method gave each day's sessions their channel (issue 10 §1), and the loud warning.

Each refresh counts, for the days it checks (and every loaded day the store has no count for yet), the sessions
per day by method (`generator.sql.attribution_methods`: the SQL a KPI by channel runs, up to the session's
click) into the store's `attribution_methods` (date, method, sessions), copied to the serving copy. `kpi
refresh`'s summary, `kpi status` and the dashboard's KPI page (for KPIs by channel, source, medium or campaign)
read it. A day whose sessions all have no source (`none`) gets a one-sentence warning with the fix: every
session on it counts as Direct.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

import duckdb
import pyarrow as pa

from generator.plan import KpiQuery, QueryPlan
from generator.sql.attribution import METHODS, TRAFFIC_COLUMNS
from generator.sql.attribution_methods import render_methods_sql

from .refresh_days import contiguous_ranges

LABELS = {"ga4_channel_group": "GA4's channel group", "last_click": "GA4's last click",
          "derived_from_utm": "derived from UTM / gclid", "none": "no source (Direct)"}
FIX = ("load the export with its session_traffic_source_last_click and collected_traffic_source columns "
       "(exports before mid-2023 have neither), or tag campaign links with utm_source and utm_medium")


@cache
def _sql() -> str:
    return render_methods_sql("duckdb")


@dataclass(frozen=True)
class AttributionSummary:
    """Sessions per method over some days, and the days (YYYY-MM-DD) on which no session had any source."""

    sessions: dict[str, int] = field(default_factory=dict)
    days: int = 0
    no_source_days: list[str] = field(default_factory=list)

    def line(self) -> str | None:
        total = sum(self.sessions.values())
        if not total:
            return None
        shares = ", ".join(f"{m} {self.sessions[m] / total:.0%}" for m in METHODS if self.sessions.get(m))
        return (f"Channel attribution of {total:,} sessions over {self.days} day{'s' * (self.days != 1)}: "
                f"{shares}.")

    def warning(self) -> str | None:
        return no_source_warning(self.no_source_days)

    def as_dict(self) -> dict[str, object]:
        return {"sessions": {m: self.sessions.get(m, 0) for m in METHODS}, "days": self.days,
                "no_source_days": list(self.no_source_days)}


def no_source_warning(days: Sequence[str]) -> str | None:
    """One sentence with the fix, for the days (YYYY-MM-DD) on which no session had a session-level source."""
    if not days:
        return None
    shown = days[0] if len(days) == 1 else f"{len(days)} days ({_spans(days)})"
    return (f"No session on {shown} has any session-level source (no session_traffic_source_last_click, "
            f"collected_traffic_source or UTM / gclid in page_location), so every session counts as Direct: {FIX}.")


def _spans(days: Sequence[str]) -> str:
    parsed = [dt.date.fromisoformat(d) for d in days]
    runs: list[list[dt.date]] = []
    for day in parsed:
        if runs and (day - runs[-1][-1]).days == 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    text = [f"{r[0]} … {r[-1]}" if len(r) > 1 else f"{r[0]}" for r in runs[:4]]
    return ", ".join(text) + (f" and {len(runs) - 4} more" if len(runs) > 4 else "")


def summarize(rows: Iterable[tuple[object, str, int]]) -> AttributionSummary:
    """(date, method, sessions) rows → sessions per method, the days, the days without any source."""
    per_day: dict[str, dict[str, int]] = {}
    for day, method, sessions in rows:
        per_day.setdefault(str(day), {})[method] = per_day.get(str(day), {}).get(method, 0) + int(sessions)
    totals: dict[str, int] = {}
    for counts in per_day.values():
        for method, n in counts.items():
            totals[method] = totals.get(method, 0) + n
    no_source = sorted(d for d, counts in per_day.items() if sum(counts.values()) and set(counts) == {"none"})
    return AttributionSummary(totals, len(per_day), no_source)


def refresh_attribution(store: duckdb.DuckDBPyConnection, days: list[str]) -> AttributionSummary:
    """Count the YYYYMMDD `days` (and loaded days not counted yet) into `attribution_methods` in one transaction;
    return the summary of those days."""
    missing = store.execute("SELECT event_date FROM loaded_days WHERE strptime(event_date, '%Y%m%d')::DATE NOT IN "
                            "(SELECT date FROM attribution_methods)").fetchall()
    todo = sorted(set(days) | {d for (d,) in missing})
    if not todo:
        return AttributionSummary()
    found = [store.sql(_sql(), params={"start_date": s, "end_date": e}).to_arrow_table()
             for s, e in contiguous_ranges(todo)]
    rows = pa.concat_tables(found) if found else None
    dates = pa.table({"date": pa.array([dt.datetime.strptime(d, "%Y%m%d").date() for d in todo], pa.date32())})
    store.register("method_days", dates)
    try:
        store.execute("BEGIN TRANSACTION")
        try:
            store.execute("DELETE FROM attribution_methods WHERE date IN (SELECT date FROM method_days)")
            if rows is not None and rows.num_rows:
                store.register("method_rows", rows)
                store.execute("INSERT INTO attribution_methods BY NAME SELECT date, method, sessions FROM method_rows")
                store.unregister("method_rows")
            store.execute("COMMIT")
        except BaseException:
            store.execute("ROLLBACK")
            raise
    finally:
        store.unregister("method_days")
    return summarize((r["date"], r["method"], r["sessions"]) for r in rows.to_pylist()) if rows else AttributionSummary()


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


def runs(rows: Sequence[tuple[object, str, int]]) -> list[tuple[str, str, int, int, dict[str, int]]]:
    """Consecutive days with the same set of methods, as (first day, last day, days, sessions, per method):
    an export's eras show up as a few rows instead of one per day."""
    per_day: dict[str, dict[str, int]] = {}
    for day, method, sessions in rows:
        per_day.setdefault(str(day), {})[method] = int(sessions)
    out: list[tuple[str, str, int, int, dict[str, int]]] = []
    previous: dt.date | None = None
    for day in sorted(per_day):
        counts = per_day[day]
        current = dt.date.fromisoformat(day)
        same = (out and previous is not None and (current - previous).days == 1
                and set(out[-1][4]) == set(counts))
        if same:
            first, _, n, total, merged = out[-1]
            for m, c in counts.items():
                merged[m] += c
            out[-1] = (first, day, n + 1, total + sum(counts.values()), merged)
        else:
            out.append((day, day, 1, sum(counts.values()), dict(counts)))
        previous = current
    return out
