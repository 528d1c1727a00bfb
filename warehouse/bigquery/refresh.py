"""`kpi refresh --engine bigquery`: the same refresh as `warehouse.refresh`, with the KPIs computed on BigQuery.

The days come from the export's tables (each day's last modification time stands for "loaded at"), so the
same `days_to_refresh` picks them: new or changed days, the 3-day late window, every day of a changed KPI.
The same `batches` group the KPIs; each group and day range is one statement, dry-run first (bytes and
price printed; `--dry-run` stops there), then run with `maximum_bytes_billed`. Only when every statement has
returned are the rows written, with `warehouse.refresh`'s own writer, in one transaction; so a failed or
killed run leaves the previous values. Each value records `engine = 'bigquery'`. A KPI whose stored values
another engine computed is recomputed in full, so one KPI's history never mixes engines silently.

Data quality (`kpi status`) needs the raw events, which stay in BigQuery: this engine leaves it as it was.
"""

from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace

import duckdb
import pyarrow as pa

from generator.compile import spec_hash
from generator.parse.catalog import KpiCatalog
from generator.plan.queries import QueryPlan

from ..clock import utc_now
from ..period_values import bucket_rows, distinct_kpis, period_table, plan_period_values
from ..refresh import SOURCE, Progress, batches, with_hashes, write_values
from ..refresh_days import KpiState, days_to_refresh, format_day, parse_day
from .client import Announce, BigQueryError
from .engine import BigQueryEngine
from .settings import human_bytes, on_demand_usd
from .statement import batch_statement

ENGINE = "bigquery"


@dataclass(frozen=True)
class Statement:
    kpi_ids: list[str]
    start: str
    end: str
    sql: str
    bytes: int = 0
    grain: str = ""  # a statement of exact values over periods (`period`, `week`, `month`); "" for daily values

    def priced(self, engine: BigQueryEngine) -> Statement:
        return replace(self, bytes=engine.dry_run(self.sql, self.start, self.end))


@dataclass(frozen=True)
class BigQueryRefreshSummary:
    kpis: int
    days: int
    rows: int
    seconds: float
    statements: int
    bytes_processed: int
    usd_estimate: float
    dry_run: bool
    recomputed: dict[str, int] = field(default_factory=dict)
    engine: str = ENGINE
    export_era: str = ""  # the export shape the statements were written for (export_shape.ERAS)
    period_statements: int = 0  # of `statements`: exact values over periods (kpi_period_values)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def line(self) -> str:
        if self.dry_run:
            return (f"Dry run: nothing was computed or stored ({self.statements} statements would process "
                    f"{human_bytes(self.bytes_processed)}).")
        return (f"Refreshed {self.kpis} KPIs over {self.days} days on BigQuery: {self.rows:,} values written "
                f"in {self.seconds:.1f} s ({human_bytes(self.bytes_processed)} processed).")


def refresh_on_bigquery(con: duckdb.DuckDBPyConnection, catalog: KpiCatalog, plan: QueryPlan,
                        engine: BigQueryEngine, *, full: bool = False, dry_run: bool = False,
                        progress: Progress | None = None, announce: Announce | None = None) -> BigQueryRefreshSummary:
    clock = time.perf_counter()
    say = announce or (lambda _m: None)
    export = engine.export_days()
    if not export.modified:
        raise BigQueryError(f"There are no events_YYYYMMDD tables in {engine.settings.where}: is GA4's BigQuery "
                            "export linked, and is this its dataset (analytics_<property id>)?")
    say(f"Export shape: {export.shape.era} ({', '.join(export.shape.needed_columns()) or 'no attribution columns'}; "
        f"read from {export.shape_table}, whose schema BigQuery uses for events_*).")
    state = _state(con)
    todo = days_to_refresh(plan, export.modified, state, full=full)

    def statement(ids: list[str], start: str, end: str, grain: str = "") -> Statement:
        sql = batch_statement(plan, ids, engine.settings.export_table, export.intraday_only, start, end,
                              bucket=grain or "day", export=export.shape)  # type: ignore[arg-type]
        return Statement(ids, start, end, sql, grain=grain)

    daily = [statement(ids, start, end) for ids, ranges in batches(plan, todo) for start, end in ranges]
    # exact values over periods, as the DuckDB refresh counts them; the same bucketed batch statement
    jobs, kept, since = plan_period_values(con, plan, export.modified, full, engine=ENGINE,
                                           previous=_last_refresh(state, plan))
    periods = [statement(list(j.kpi_ids), format_day(j.start), format_day(j.end), j.grain) for j in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:  # dry runs are free and quick: price them side by side
        priced = list(pool.map(lambda s: s.priced(engine), [*daily, *periods]))
    total = sum(s.bytes for s in priced)
    recomputed = [(kid, d) for kid, days in todo.items() for d in days]
    say(f"Dry run: {len(priced)} BigQuery statement{'' if len(priced) == 1 else 's'} ({len(periods)} of them exact "
        f"values over periods) for {len(todo)} KPIs over {len({d for _k, d in recomputed})} days will process "
        f"{human_bytes(total)}: about ${on_demand_usd(total):,.4f} at on-demand prices; no query may bill more "
        f"than {human_bytes(engine.settings.max_bytes_billed)} (max_bytes_billed).")
    over = [s for s in priced if s.bytes > engine.settings.max_bytes_billed]
    if over:
        raise BigQueryError(f"A statement would process {human_bytes(over[0].bytes)} in {engine.settings.where}, more "
                            f"than the limit of {human_bytes(engine.settings.max_bytes_billed)} (max_bytes_billed); "
                            "nothing was run: raise the limit with --max-bytes-billed if that is expected.")
    summary = dict(kpis=len(plan.kpis), statements=len(priced), bytes_processed=total,
                   usd_estimate=round(on_demand_usd(total), 6), recomputed={k: len(v) for k, v in todo.items()},
                   export_era=export.shape.era, period_statements=len(periods))
    if dry_run:
        return BigQueryRefreshSummary(days=0, rows=0, seconds=round(time.perf_counter() - clock, 2), dry_run=True,
                                      **summary)
    hashes = {q.kpi_id: q.definition_hash for q in plan.ordered()}
    staged: list[pa.Table] = []
    period_rows = list(kept)
    for done, s in enumerate(priced):
        if progress:
            progress(f"{s.kpi_ids[0]} on BigQuery", done, len(priced))
        result = engine.rows(s.sql, s.start, s.end)
        if s.grain:
            period_rows += bucket_rows(result.to_pylist(), s.grain, parse_day(s.start), parse_day(s.end))
        else:
            staged.append(_as_values(result, s.start, s.end, hashes))
    now = utc_now()
    rows = write_values(con, plan, staged, recomputed, [], [], now, spec_hash(catalog),
                        periods=(period_table(period_rows, plan, ENGINE), since))
    return BigQueryRefreshSummary(days=len({d for _k, d in recomputed}), rows=rows,
                                  seconds=round(time.perf_counter() - clock, 2), dry_run=False,
                                  **summary)


def _last_refresh(state: dict[str, KpiState], plan: QueryPlan) -> dt.datetime | None:
    """When every distinct-count KPI was last refreshed on BigQuery (None: one never was): days of the export
    changed since then move the periods that hold them."""
    times = [state[kid].refreshed_at if kid in state else None for kid in distinct_kpis(plan)]
    return None if not times or None in times else min(times)  # type: ignore[type-var]


def _state(con: duckdb.DuckDBPyConnection) -> dict[str, KpiState]:
    """Each KPI's refresh state, unless another engine computed some of its stored values (then: all days)."""
    other = {k for (k,) in con.execute("SELECT DISTINCT kpi_id FROM kpi_values WHERE source = $s AND "
                                       "engine IS DISTINCT FROM $e", {"s": SOURCE, "e": ENGINE}).fetchall()}
    return {k: KpiState(h, at) for k, h, at in con.execute(
        "SELECT kpi_id, definition_hash, refreshed_at FROM kpi_refresh_state WHERE source = $s",
        {"s": SOURCE}).fetchall() if k not in other}


_COLUMNS = {"kpi_id": pa.string(), "date": pa.date32(), "breakdown": pa.string(), "breakdown_value": pa.string(),
            "value": pa.float64(), "numerator": pa.float64(), "denominator": pa.float64()}


def _as_values(result: pa.Table, start: str, end: str, hashes: dict[str, str]) -> pa.Table:
    """BigQuery's rows in the store's shape, only the days of the range, with hashes, source and engine."""
    table = pa.table({name: result.column(name).cast(kind) for name, kind in _COLUMNS.items()})
    first, last = parse_day(start), parse_day(end)
    keep = [first <= d <= last for d in table.column("date").to_pylist()]
    table = with_hashes(table.filter(pa.array(keep, pa.bool_())), hashes)
    return table.append_column("engine", pa.array([ENGINE] * table.num_rows, pa.string()))
