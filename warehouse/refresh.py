"""`kpi refresh`: compute every active KPI per day and breakdown, incrementally, idempotently, atomically.

All writes to the store happen in one transaction (a killed refresh leaves the previous state), then
the serving copy the dashboard reads is rebuilt beside it and swapped in with one rename.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import duckdb
import pyarrow as pa

from generator.catalog import KpiCatalog
from generator.plan import QueryPlan
from generator.sql import render_sql

from .quality import compute_quality, spec_tables
from .refresh_days import KpiState, contiguous_ranges, days_to_refresh

SOURCE = "ga4_export"

Progress = Callable[[str, int, int], None]  # (what, done, total)


@dataclass(frozen=True)
class RefreshSummary:
    kpis: int
    days: int
    rows: int
    seconds: float
    recomputed: dict[str, int]  # kpi → days recomputed

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def line(self) -> str:
        return (f"Refreshed {self.kpis} KPIs over {self.days} days: {self.rows:,} values written "
                f"in {self.seconds:.1f} s.")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def spec_hash(catalog: KpiCatalog) -> str:
    tables = spec_tables(catalog)
    payload = json.dumps([tables.params.to_pylist(), tables.events.to_pylist()], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def refresh_kpis(con: duckdb.DuckDBPyConnection, catalog: KpiCatalog, plan: QueryPlan, *, full: bool = False,
                 progress: Progress | None = None) -> RefreshSummary:
    """Recompute what changed; write values, state and data quality in one transaction."""
    clock = time.perf_counter()
    now = _now()
    con.execute("SET enable_progress_bar = false")
    loaded = {d: at for d, at in con.execute("SELECT event_date, loaded_at FROM loaded_days").fetchall()}
    state = {k: KpiState(h, at) for k, h, at in con.execute(
        "SELECT kpi_id, definition_hash, refreshed_at FROM kpi_refresh_state WHERE source = $s",
        {"s": SOURCE}).fetchall()}
    todo = days_to_refresh(plan, loaded, state, full=full)
    staged: list[pa.Table] = []
    recomputed: list[tuple[str, str]] = []  # (kpi, day) whose old values are replaced
    total = sum(len(contiguous_ranges(days)) for days in todo.values())
    done = 0
    for query in plan.ordered():
        sql = render_sql(query, plan, "duckdb")
        for start, end in contiguous_ranges(todo[query.kpi_id]):
            table = con.sql(sql, params={"start_date": start, "end_date": end}).to_arrow_table()
            staged.append(_with_kpi(table, query.kpi_id, query.definition_hash))
            done += 1
            if progress:
                progress(query.kpi_id, done, total)
        recomputed += [(query.kpi_id, d) for d in todo[query.kpi_id]]
    quality_days = _quality_days(con, catalog, loaded, full)
    quality = [compute_quality(con, catalog, s, e) for s, e in contiguous_ranges(quality_days)]
    rows = _write(con, plan, staged, recomputed, quality, quality_days, now, spec_hash(catalog))
    seconds = time.perf_counter() - clock
    con.execute("INSERT INTO refresh_log VALUES ($at, $k, $d, $r, $s, $h)",
                {"at": now, "k": len(plan.kpis), "d": len(loaded), "r": rows, "s": seconds, "h": spec_hash(catalog)})
    return RefreshSummary(len(plan.kpis), len({d for _k, d in recomputed}), rows, round(seconds, 2),
                          {k: len(v) for k, v in todo.items()})


def _quality_days(con: duckdb.DuckDBPyConnection, catalog: KpiCatalog, loaded: dict[str, dt.datetime],
                  full: bool) -> list[str]:
    last = con.execute("SELECT refreshed_at, spec_hash FROM refresh_log ORDER BY refreshed_at DESC LIMIT 1").fetchall()
    if full or not last or last[0][1] != spec_hash(catalog):
        return sorted(loaded)
    since = last[0][0]
    from .refresh_days import LATE_DATA_DAYS

    return sorted({d for d, at in loaded.items() if at > since} | set(sorted(loaded)[-LATE_DATA_DAYS:]))


def _with_kpi(table: pa.Table, kpi_id: str, definition_hash: str) -> pa.Table:
    n = table.num_rows
    cols = {
        "kpi_id": pa.array([kpi_id] * n, pa.string()),
        "date": table.column("date").cast(pa.date32()),
        "breakdown": table.column("breakdown").cast(pa.string()),
        "breakdown_value": table.column("breakdown_value").cast(pa.string()),
        "value": table.column("value").cast(pa.float64()),
        "numerator": table.column("numerator").cast(pa.float64()),
        "denominator": table.column("denominator").cast(pa.float64()),
        "definition_hash": pa.array([definition_hash] * n, pa.string()),
        "source": pa.array([SOURCE] * n, pa.string()),
    }
    return pa.table(cols)


def _write(con: duckdb.DuckDBPyConnection, plan: QueryPlan, staged: list[pa.Table],
           recomputed: list[tuple[str, str]], quality: list[pa.Table], quality_days: list[str],
           now: dt.datetime, spec: str) -> int:
    """Replace the recomputed (kpi, day) values, keeping `computed_at` where a value did not change."""
    new_values = pa.concat_tables(staged) if staged else None
    days_table = pa.table({"kpi_id": pa.array([k for k, _ in recomputed], pa.string()),
                           "date": pa.array([dt.datetime.strptime(d, "%Y%m%d").date() for _, d in recomputed],
                                            pa.date32())})
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("recomputed_days", days_table)
        if new_values is not None:
            con.register("new_values", new_values)
            con.execute("""
                CREATE OR REPLACE TEMP TABLE merged_values AS
                SELECT n.*, CASE WHEN o.kpi_id IS NOT NULL
                        AND o.value IS NOT DISTINCT FROM n.value
                        AND o.numerator IS NOT DISTINCT FROM n.numerator
                        AND o.denominator IS NOT DISTINCT FROM n.denominator
                        AND o.definition_hash = n.definition_hash
                    THEN o.computed_at ELSE $now END AS computed_at
                FROM new_values n
                LEFT JOIN kpi_values o USING (kpi_id, date, breakdown, breakdown_value, source)
            """, {"now": now})
        con.execute("""
            DELETE FROM kpi_values v USING recomputed_days r
            WHERE v.kpi_id = r.kpi_id AND v.date = r.date AND v.source = $s
        """, {"s": SOURCE})
        # KPIs no longer active: their values go too
        active = pa.table({"kpi_id": pa.array(sorted(plan.kpis), pa.string())})
        con.register("active_kpis", active)
        con.execute("DELETE FROM kpi_values WHERE source = $s AND kpi_id NOT IN (SELECT kpi_id FROM active_kpis)",
                    {"s": SOURCE})
        con.execute("DELETE FROM kpi_refresh_state WHERE source = $s AND kpi_id NOT IN "
                    "(SELECT kpi_id FROM active_kpis)", {"s": SOURCE})
        rows = 0
        if new_values is not None:
            con.execute("INSERT INTO kpi_values BY NAME SELECT * FROM merged_values")
            rows = new_values.num_rows
        for q in plan.ordered():
            previous = con.execute("SELECT definition_hash FROM kpi_refresh_state WHERE kpi_id = $k AND source = $s",
                                   {"k": q.kpi_id, "s": SOURCE}).fetchall()
            if not previous or previous[0][0] != q.definition_hash:
                con.execute("INSERT OR IGNORE INTO kpi_definition_changes VALUES ($k, $h, $d)",
                            {"k": q.kpi_id, "h": q.definition_hash, "d": now.date()})
            con.execute("INSERT OR REPLACE INTO kpi_refresh_state VALUES ($k, $s, $h, $at)",
                        {"k": q.kpi_id, "s": SOURCE, "h": q.definition_hash, "at": now})
        if quality_days:
            qdays = pa.table({"date": pa.array([dt.datetime.strptime(d, "%Y%m%d").date() for d in quality_days],
                                               pa.date32())})
            con.register("quality_days", qdays)
            con.execute("DELETE FROM event_quality WHERE date IN (SELECT date FROM quality_days)")
            for table in quality:
                con.register("quality_rows", table)
                con.execute("INSERT INTO event_quality BY NAME SELECT * FROM quality_rows")
                con.unregister("quality_rows")
        con.execute("COMMIT")
        return rows
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:
            pass
        raise
