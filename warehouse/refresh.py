"""`kpi refresh`: compute every active KPI per day and breakdown, incrementally, idempotently, atomically.

The KPIs that recompute the same days run as one batch statement per day range (`render_plan_sql`: one
read of the events, one session table for all of them), not one statement per KPI. All writes to the store
happen in one transaction (a killed refresh leaves the previous state), then the serving copy the dashboard
reads is rebuilt beside it and swapped in with one rename.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Set
from dataclasses import asdict, dataclass, field

import duckdb
import pyarrow as pa

from generator.compile import spec_hash
from generator.parse.catalog import KpiCatalog
from generator.plan.queries import KpiQuery, QueryPlan

from .attribution_methods import METHOD_VALUES, counted_days, methods_days, refresh_attribution
from .attribution_summary import AttributionSummary
from .clock import utc_now
from .connection import statement_events
from .day_parts import FreshDays
from .day_tables import provisional_days
from .event_stamps import refresh_event_stamps
from .first_seen import FirstDays, days_changed, first_days, first_purchases, reads_purchases, save_first_seen
from .flat_params import flatten, params_of
from .kpi_values import SOURCE, stage_values
from .observed_values import session_subjects
from .pending import kill_point
from .period_values import compute_period_values, write_period_values
from .quality import compute_quality
from .quality_days import checks_hash, days_to_check, save_checked
from .refresh_days import KpiState, contiguous_ranges, days_to_refresh, within_budget
from .refresh_isolation import KpiFailure, compute_isolated, unique_failures, without_kpis
from .session_facts import keep_facts

Progress = Callable[[str, int, int], None]  # (what, done, total)


@dataclass(frozen=True)
class RefreshSummary:
    kpis: int
    days: int
    rows: int
    seconds: float
    recomputed: dict[str, int]  # kpi → days recomputed
    phases: dict[str, float] = field(default_factory=dict)  # seconds on the KPIs, data quality, writes (and CPU)
    failed: list[KpiFailure] = field(default_factory=list)  # KPIs whose statement failed: they kept their values
    provisional: list[str] = field(default_factory=list)  # days from intraday data only (warehouse/day_tables.py)
    # sessions per attribution method over the days checked, and the days without any source (issue 10 §1)
    attribution: AttributionSummary = field(default_factory=AttributionSummary)
    # nothing new since the last refresh (`nothing_new.py`): its time, "YYYY-MM-DD HH:MM:SS" UTC; nothing computed
    unchanged_since: str | None = None
    # statements over the kept session days that failed and were computed from the events instead (the same
    # numbers, more slowly): `refresh_isolation.retry_sentence`, one sentence each
    retried: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def line(self) -> str:
        if self.unchanged_since:
            return (f"Nothing new since the last refresh at {self.unchanged_since} UTC; values unchanged. "
                    "Use --full to recompute.")
        return (f"Refreshed {self.kpis} KPIs over {self.days} days: {self.rows:,} values written "
                f"in {self.seconds:.1f} s.")

    def failure_lines(self) -> list[str]:
        """One sentence per KPI that failed (KPI, file, line, the database's message)."""
        return [f.sentence() for f in self.failed]



def refresh_kpis(con: duckdb.DuckDBPyConnection, catalog: KpiCatalog, plan: QueryPlan, *, full: bool = False,
                 progress: Progress | None = None, spec: str | None = None) -> RefreshSummary:
    """Recompute what changed; write values, state and data quality in one transaction. `spec`: the catalog's
    spec hash when the caller has it (`Compiled.spec_hash`)."""
    spec = spec or spec_hash(catalog)
    clock, cpu = time.perf_counter(), time.process_time()
    now = utc_now()
    con.execute("SET enable_progress_bar = false")
    loaded = {d: at for d, at in con.execute("SELECT event_date, loaded_at FROM loaded_days").fetchall()}
    # a KPI whose stored values another engine computed (`kpi refresh --engine bigquery`) is computed in full
    state = {k: KpiState(h, at) for k, h, at in con.execute(
        "SELECT kpi_id, definition_hash, refreshed_at FROM kpi_refresh_state WHERE source = $s AND kpi_id NOT IN "
        "(SELECT kpi_id FROM kpi_values WHERE source = $s AND engine <> 'duckdb')", {"s": SOURCE}).fetchall()}
    first = first_days(con, full=full)  # each transaction id's first day, read once
    purchase_days = days_changed(con, first)  # a late or reloaded day can change another day's purchases
    flatten(con, params_of(con, plan))  # the params the statements read, as plain columns (flat_params.py)
    # each loaded day's session days, kept once for every statement (session_facts.py); --full keeps them again
    facts = keep_facts(con, plan, full=full)
    # the statements read the purchases' history from each id's first day, one row per id (first_seen.py)
    with first_purchases(con, first):
        todo = days_to_refresh(plan, loaded, state, full=full, purchase_days=purchase_days)
        staged: list[pa.Table] = []
        # (kpi, day) whose old values are replaced
        recomputed = [(kid, d) for kid, days in todo.items() for d in days]
        # long ranges in statements that fit in DuckDB's memory (a full refresh: 89 days of 5M events in two)
        per_day = {str(d): int(n) for d, n in con.execute("SELECT event_date, rows FROM loaded_days").fetchall()}
        groups = [(kpi_ids, within_budget(ranges, per_day, statement_events(con)))
                  for kpi_ids, ranges in batches(plan, todo)]
        total = sum(len(kpi_ids) * len(ranges) for kpi_ids, ranges in groups)  # one step per KPI and day range
        done = 0
        hashes = {q.kpi_id: q.definition_hash for q in plan.ordered()}
        failures: list[KpiFailure] = []
        retried: list[str] = []  # statements over the kept session days run again from the events
        # data quality and the attribution methods once per loaded day: only days (re)loaded since checked, or all
        # when the checks changed; the methods (every day with `full`, and any loaded day not counted yet) with the
        # values a day of the session dimensions the KPI files name (observed_values.py), counted by the first KPI
        # statement over each day from the session table it builds anyway, else on their own
        quality_days = days_to_check(con, loaded, checks_hash(spec))
        subjects = session_subjects(catalog)
        methods_todo = set(methods_days(con, sorted(loaded) if full else quality_days))
        counted: dict[str, list[dict[str, object]]] = {}
        for kpi_ids, ranges in groups:
            for start, end in ranges:
                if progress:
                    progress(_label(kpi_ids), done, total)
                wanted = {d for d in methods_todo if start <= d <= end and d not in counted}
                tables, failed, methods = compute_isolated(
                    con, catalog, plan, kpi_ids, start, end, [s.name for s in subjects] if wanted else None,
                    METHOD_VALUES, facts=facts, retried=retried)
                if methods is not None:
                    counted |= counted_days(methods, wanted)
                staged += [_with_hashes(table, hashes) for table in tables]
                failures += failed
                for kpi_id in kpi_ids:
                    done += 1
                    if progress:
                        progress(kpi_id, done, total)
        failed_ids = {f.kpi_id for f in failures}  # they keep their previous values and refresh state
        staged = [without_kpis(table, failed_ids) for table in staged] if failed_ids else staged
        recomputed = [(kid, d) for kid, d in recomputed if kid not in failed_ids]
        # distinct counts over periods, exact; not for a KPI whose statement failed (nor what derives from it)
        periods = compute_period_values(con, without_failed(plan, failed_ids), loaded, full, also=purchase_days,
                                        fresh=FreshDays(staged, frozenset(recomputed)))
    computed, computed_cpu = time.perf_counter(), time.process_time()
    quality = [compute_quality(con, catalog, s, e) for s, e in contiguous_ranges(quality_days)]
    checked, checked_cpu = time.perf_counter(), time.process_time()
    rows = _write(con, plan, staged, recomputed, quality, quality_days, now, spec, failed_ids, periods,
                  # a KPI reading purchases that failed will need these days again: keep the former first days
                  first_seen=not any(reads_purchases(plan, k) for k in failed_ids if k in plan.kpis),
                  checked=(loaded, checks_hash(spec)), first_seen_days=first)
    refresh_event_stamps(con, quality_days)  # before refresh_log: a kill here redoes these days next time
    attributed = time.perf_counter()
    attribution = refresh_attribution(con, sorted(methods_todo), subjects, counted)
    seconds = time.perf_counter() - clock
    phases = {"kpis": computed - clock, "quality": checked - computed, "write": clock + seconds - checked,
              # CPU seconds of all threads: steadier than wall time on a busy machine
              "kpis_cpu": computed_cpu - cpu, "quality_cpu": checked_cpu - computed_cpu,
              "write_cpu": time.process_time() - checked_cpu, "attribution": clock + seconds - attributed}
    con.execute("INSERT INTO refresh_log VALUES ($at, $k, $d, $r, $s, $h)",
                {"at": now, "k": len(plan.kpis), "d": len(loaded), "r": rows, "s": seconds, "h": spec})
    return RefreshSummary(len(plan.kpis) - len(failed_ids), len({d for _k, d in recomputed}), rows, round(seconds, 2),
                          {k: len(v) for k, v in todo.items() if k not in failed_ids},
                          {k: round(v, 3) for k, v in phases.items()}, unique_failures(failures),
                          provisional_days(con), attribution, retried=retried)


def without_failed(plan: QueryPlan, failed: set[str]) -> QueryPlan:
    """The plan without the KPIs that failed and those derived from them."""
    if not failed:
        return plan
    out: dict[str, KpiQuery] = {}
    for kid, q in plan.kpis.items():  # plan order: components before the KPIs derived from them
        if kid not in failed and all(c in out for c in q.components):
            out[kid] = q
    return QueryPlan(out)


def batches(plan: QueryPlan, todo: dict[str, list[str]]) -> list[tuple[list[str], list[tuple[str, str]]]]:
    """The KPIs that recompute the same days, grouped (in plan order), each group with its day ranges.

    Each group and range is one batch statement: one read of the events for all of its KPIs. A group whose days
    are all among another group's, which has at most as many again, joins it (`MERGE_EXTRA`): after a new day,
    the KPIs of the late-data window (3 days) and the conversions reaching one day further back (4) are one
    statement, one scan, not two. A KPI's rows of the days it did not ask for are not written (`_write` keeps
    only the recomputed days).
    """
    groups: dict[tuple[str, ...], list[str]] = {}
    for q in plan.ordered():
        days = tuple(todo.get(q.kpi_id, ()))
        if days:
            groups.setdefault(days, []).append(q.kpi_id)
    merged: dict[tuple[str, ...], list[str]] = {}
    for days in sorted(groups, key=len, reverse=True):  # the widest first: a group joins one wider than itself
        into = next((wider for wider in merged if set(days) <= set(wider)
                     and len(wider) - len(days) <= MERGE_EXTRA * len(days)), None)
        merged.setdefault(into or days, []).extend(groups[days])
    order = {kid: i for i, kid in enumerate(plan.kpis)}
    return [(sorted(kpi_ids, key=order.__getitem__), contiguous_ranges(days))
            for days, kpi_ids in sorted(merged.items(), key=lambda item: min(order[k] for k in item[1]))]


MERGE_EXTRA = 1.0  # a group joins a wider one when that adds at most this many days per day it asks for


def _label(kpi_ids: list[str]) -> str:
    return kpi_ids[0] if len(kpi_ids) == 1 else f"{kpi_ids[0]} and {len(kpi_ids) - 1} more KPIs"


def _with_hashes(table: pa.Table, hashes: dict[str, str]) -> pa.Table:
    """A batch statement's rows in the shape of `kpi_values` (without `computed_at`)."""
    kpi_ids = table.column("kpi_id").to_pylist()
    cols = {name: _typed(table.column(name), kind) for name, kind in _RESULT_TYPES.items()}
    cols["definition_hash"] = pa.array([hashes[k] for k in kpi_ids], pa.string())
    cols["source"] = pa.array([SOURCE] * table.num_rows, pa.string())
    return pa.table(cols)


_RESULT_TYPES = {"kpi_id": pa.string(), "date": pa.date32(), "breakdown": pa.string(), "breakdown_value": pa.string(),
                 "value": pa.float64(), "numerator": pa.float64(), "denominator": pa.float64()}


def _typed(column: pa.ChunkedArray, kind: pa.DataType) -> pa.ChunkedArray:
    # DuckDB returns these types already; casting anyway would import pyarrow.compute (half a second)
    return column if column.type == kind else column.cast(kind)


def _write(con: duckdb.DuckDBPyConnection, plan: QueryPlan, staged: list[pa.Table],
           recomputed: list[tuple[str, str]], quality: list[pa.Table], quality_days: list[str],
           now: dt.datetime, spec: str, failed: Set[str] = frozenset(),
           periods: tuple[pa.Table, dict[str, dt.date]] | None = None, first_seen: bool = True,
           checked: tuple[dict[str, dt.datetime], str] | None = None, first_seen_days: FirstDays | None = None,
           ) -> int:
    """Replace the recomputed (kpi, day) values, keeping `computed_at` where a value did not change.

    `checked`: (the loaded days, the checks' hash) to record `quality_days` as checked with;
    `first_seen_days`: each transaction id's first day as the refresh read it (`first_seen.first_days`; else
    read again)."""
    new_values = pa.concat_tables(staged) if staged else None
    days_table = pa.table({"kpi_id": pa.array([k for k, _ in recomputed], pa.string()),
                           "date": pa.array([dt.datetime.strptime(d, "%Y%m%d").date() for _, d in recomputed],
                                            pa.date32())})
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("recomputed_days", days_table)
        if new_values is not None:
            merged = stage_values(con, new_values, now)
        con.execute("""
            DELETE FROM kpi_values v USING recomputed_days r
            WHERE v.kpi_id = r.kpi_id AND v.date = r.date AND v.source = $s
        """, {"s": SOURCE})
        # KPIs no longer active keep their values until `kpi prune` (warehouse/history.py)
        rows = 0
        if new_values is not None:  # a batch joined to a wider one (`batches`) computed days not asked for
            rows = con.execute(f"INSERT INTO kpi_values BY NAME SELECT m.* FROM {merged} m SEMI JOIN recomputed_days r "
                               "ON m.kpi_id = r.kpi_id AND m.date = r.date").fetchall()[0][0]
        done = [q for q in plan.ordered() if q.kpi_id not in failed]
        # each KPI whose definition differs from the one last refreshed (or new) gets a change, then its state: two
        # statements for all the KPIs (one per KPI and statement cost a new day 0.04 CPU s)
        state = {"k": [q.kpi_id for q in done], "h": [q.definition_hash for q in done], "s": SOURCE}
        con.execute("""
            INSERT OR IGNORE INTO kpi_definition_changes
            SELECT n.k, n.h, $d FROM (SELECT unnest($k) AS k, unnest($h) AS h) n
            WHERE NOT EXISTS (SELECT 1 FROM kpi_refresh_state r
                              WHERE r.kpi_id = n.k AND r.source = $s AND r.definition_hash = n.h)
        """, {**state, "d": now.date()})
        con.execute("INSERT OR REPLACE INTO kpi_refresh_state SELECT unnest($k), $s, unnest($h), $at",
                    {**state, "at": now})
        if quality_days:
            qdays = pa.table({"date": pa.array([dt.datetime.strptime(d, "%Y%m%d").date() for d in quality_days],
                                               pa.date32())})
            con.register("quality_days", qdays)
            con.execute("DELETE FROM event_quality WHERE date IN (SELECT date FROM quality_days)")
            for table in quality:
                con.register("quality_rows", table)
                con.execute("INSERT INTO event_quality BY NAME SELECT * FROM quality_rows")
                con.unregister("quality_rows")
        if checked is not None:
            save_checked(con, quality_days, *checked)
        if periods is not None:
            write_period_values(con, plan, *periods, now)
        if first_seen:
            save_first_seen(con, first_seen_days)
        kill_point("store-before-commit")
        con.execute("COMMIT")
        return rows
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:
            pass
        raise


# The seam for other engines (warehouse/bigquery): they compute the same batches elsewhere, then stage and
# write their rows exactly as this refresh does.
with_hashes = _with_hashes
write_values = _write
