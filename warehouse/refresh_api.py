"""`kpi refresh`, Data API part: the `ga4_api` KPI values, computed from the loaded report rows.

Per KPI, per day and declared breakdown, the numerator and denominator come from the report rows the
API plan's slots name (request, metric, and the `eventName` row for shared events requests); a derived
KPI is computed from its components' values; a KPI the Data API cannot express is skipped with its
reason. Every `ga4_api` value is recomputed each time (report rows are few), in one transaction, and a
value that did not change keeps its `computed_at`. Values GA4 flagged (thresholding, sampling, `(other)`
rows) get their caveats in `kpi_value_caveats`, so the dashboard can call them estimates.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import asdict, dataclass

import duckdb
import pyarrow as pa

from generator.plan.api_plan import ApiKpi, ApiPlan, Slot, compile_api_plan
from generator.plan.formula import evaluate, ratio_parts
from generator.plan.queries import DerivedQuery, KpiQuery, QueryPlan

from .clock import utc_now
from .kpi_values import stage_values

SOURCE = "ga4_api"
OTHER = "(other)"

Key = tuple[dt.date, str, str]  # (date, breakdown, breakdown_value)


@dataclass(frozen=True)
class ApiValue:
    value: float | None
    numerator: float | None
    denominator: float | None
    caveats: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ApiRefreshSummary:
    report_rows: int
    kpis: int
    days: int
    rows: int
    estimates: int
    skipped: dict[str, str]
    seconds: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def lines(self) -> list[str]:
        """Nothing when no Data API rows are loaded; else what was computed and what was skipped, and why."""
        if not self.report_rows:
            return []
        flagged = f"; {self.estimates:,} are estimates (GA4 flagged them)" if self.estimates else ""
        out = [f"Computed {self.kpis} KPIs from the Data API over {self.days} days: {self.rows:,} values "
               f"written{flagged}."]
        out += [f"Not from the Data API: {kid}: {reason}." for kid, reason in self.skipped.items()]
        return out


def refresh_api_kpis(con: duckdb.DuckDBPyConnection, plan: QueryPlan, now: dt.datetime | None = None, *,
                     api: ApiPlan | None = None) -> ApiRefreshSummary:
    """Recompute every `ga4_api` value from `ga4_report_rows`; write values, caveats and state atomically.
    `api`: the plan's Data API plan when the caller has it (`Compiled.api_plan`)."""
    clock = time.perf_counter()
    now = now or utc_now()
    api = api or compile_api_plan(plan)
    report_rows = int(con.execute("SELECT count(*) FROM ga4_report_rows").fetchall()[0][0])
    caveats = _caveats_by_request_day(con) if report_rows else {}
    values: dict[str, dict[Key, ApiValue]] = {}
    skipped: dict[str, str] = {}
    for query in plan.ordered():
        k = api.kpis.get(query.kpi_id)
        if k is None or not k.expressible:
            skipped[query.kpi_id] = k.reason if k and k.reason else "it has no Data API mapping"
            continue
        if not report_rows:
            continue
        if isinstance(query, DerivedQuery) and k.components:
            values[query.kpi_id] = _derived(query, values)
        else:
            values[query.kpi_id] = _from_slots(con, query, k, caveats)
    rows, estimates = _write(con, plan, values, now)
    days = len({key[0] for by_key in values.values() for key in by_key})
    return ApiRefreshSummary(report_rows, len(values), days, rows, estimates, skipped,
                             round(time.perf_counter() - clock, 3))


def _from_slots(con: duckdb.DuckDBPyConnection, query: KpiQuery, k: ApiKpi,
                caveats: dict[tuple[str, dt.date], frozenset[str]]) -> dict[Key, ApiValue]:
    api_names = {b.name: b.api_name for b in query.breakdowns}
    out: dict[Key, ApiValue] = {}
    for breakdown, num_slot in k.numerator.items():
        dimension = api_names[breakdown] if breakdown else None
        num = _slot_sums(con, num_slot, dimension, caveats)
        den_slot = k.denominator.get(breakdown)
        if den_slot is None:
            for (day, bvalue), (total, flags) in num.items():
                out[(day, breakdown, bvalue)] = ApiValue(total, total, None, flags)
            continue
        den = _slot_sums(con, den_slot, dimension, caveats)
        for day, bvalue in sorted(set(num) | set(den)):
            n, n_flags = num.get((day, bvalue), (0.0, frozenset()))  # GA4 omits rows whose metrics are all 0
            d, d_flags = den.get((day, bvalue), (0.0, frozenset()))
            out[(day, breakdown, bvalue)] = ApiValue(n / d if d else None, n, d, n_flags | d_flags)
    return out


_SLOT_SQL = """
    SELECT date, coalesce(dimensions[$dimension], '') AS breakdown_value, sum(metrics[$metric]) AS total
    FROM ga4_report_rows
    WHERE request_id = $request AND ($event IS NULL OR dimensions['eventName'] = $event)
    GROUP BY ALL
"""


def _slot_sums(con: duckdb.DuckDBPyConnection, slot: Slot, dimension: str | None,
               caveats: dict[tuple[str, dt.date], frozenset[str]]) -> dict[tuple[dt.date, str], tuple[float, frozenset[str]]]:
    found = con.execute(_SLOT_SQL, {"dimension": dimension, "metric": slot.metric, "request": slot.request_id,
                                    "event": slot.event_name}).fetchall()
    out = {}
    for day, bvalue, total in found:
        flags = caveats.get((slot.request_id, day), frozenset())
        if bvalue == OTHER:
            flags |= {"other_row"}
        out[(day, bvalue)] = (float(total or 0.0), flags)
    return out


def _caveats_by_request_day(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, dt.date], frozenset[str]]:
    found = con.execute("""
        SELECT r.request_id, r.date,
               bool_or(coalesce(p.subject_to_thresholding, false)),
               bool_or(p.sampled_fraction IS NOT NULL),
               bool_or(coalesce(p.data_loss_from_other_row, false)
                       OR list_contains(map_values(r.dimensions), '(other)'))
        FROM ga4_report_rows r
        LEFT JOIN ga4_api_reports p ON p.load_id = r.load_id AND p.request_id = r.request_id
        GROUP BY ALL
    """).fetchall()
    out = {}
    for request_id, day, thresholded, sampled, other in found:
        flags = frozenset(name for name, on in (("thresholded", thresholded), ("sampled", sampled),
                                                ("other_row", other)) if on)
        if flags:
            out[(request_id, day)] = flags
    return out


def _derived(query: DerivedQuery, known: dict[str, dict[Key, ApiValue]]) -> dict[Key, ApiValue]:
    """A derived KPI per day and shared breakdown, from its components' values."""
    breakdowns = {""} | {b.name for b in query.breakdowns}
    first = known.get(query.components[0], {})
    out: dict[Key, ApiValue] = {}
    for key in sorted(k for k in first if k[1] in breakdowns):
        parts = {c: known.get(c, {}).get(key) for c in query.components}
        if any(p is None or p.value is None for p in parts.values()):
            continue
        env = {c: p.value for c, p in parts.items() if p is not None and p.value is not None}
        flags = frozenset().union(*(p.caveats for p in parts.values() if p is not None))
        ratio = ratio_parts(query.formula)
        if ratio is not None:
            num, den = evaluate(ratio[0], env), evaluate(ratio[1], env)
            value = num / den if num is not None and den else None
            out[key] = ApiValue(value, num, den, flags)
        else:
            value = evaluate(query.formula, env)
            out[key] = ApiValue(value, value, None, flags)
    return out


def _write(con: duckdb.DuckDBPyConnection, plan: QueryPlan, values: dict[str, dict[Key, ApiValue]],
           now: dt.datetime) -> tuple[int, int]:
    """Replace every `ga4_api` value (keeping `computed_at` where nothing changed), its caveats and state."""
    flat = [(kid, key, v) for kid, by_key in values.items() for key, v in sorted(by_key.items())]
    new_values = pa.table({
        "kpi_id": pa.array([kid for kid, _, _ in flat], pa.string()),
        "date": pa.array([key[0] for _, key, _ in flat], pa.date32()),
        "breakdown": pa.array([key[1] for _, key, _ in flat], pa.string()),
        "breakdown_value": pa.array([key[2] for _, key, _ in flat], pa.string()),
        "value": pa.array([v.value for _, _, v in flat], pa.float64()),
        "numerator": pa.array([v.numerator for _, _, v in flat], pa.float64()),
        "denominator": pa.array([v.denominator for _, _, v in flat], pa.float64()),
        "definition_hash": pa.array([plan.kpis[kid].definition_hash for kid, _, _ in flat], pa.string()),
        "source": pa.array([SOURCE] * len(flat), pa.string()),
    })
    flagged = [(kid, key, v) for kid, key, v in flat if v.caveats]
    new_caveats = pa.table({
        "kpi_id": pa.array([kid for kid, _, _ in flagged], pa.string()),
        "date": pa.array([key[0] for _, key, _ in flagged], pa.date32()),
        "breakdown": pa.array([key[1] for _, key, _ in flagged], pa.string()),
        "breakdown_value": pa.array([key[2] for _, key, _ in flagged], pa.string()),
        "source": pa.array([SOURCE] * len(flagged), pa.string()),
        "caveats": pa.array([sorted(v.caveats) for _, _, v in flagged], pa.list_(pa.string())),
    })
    con.execute("BEGIN TRANSACTION")
    try:
        merged = stage_values(con, new_values, now)
        # only the active KPIs' values are replaced: inactive ones keep theirs until `kpi prune`
        active = {"s": SOURCE, "ids": sorted(plan.kpis)}
        con.execute("DELETE FROM kpi_values WHERE source = $s AND list_contains($ids, kpi_id)", active)
        con.execute(f"INSERT INTO kpi_values BY NAME SELECT * FROM {merged}")
        con.execute("DELETE FROM kpi_value_caveats WHERE source = $s AND list_contains($ids, kpi_id)", active)
        con.register("new_api_caveats", new_caveats)
        con.execute("INSERT INTO kpi_value_caveats BY NAME SELECT * FROM new_api_caveats")
        con.execute("DELETE FROM kpi_refresh_state WHERE source = $s AND list_contains($ids, kpi_id)", active)
        for kid in sorted(values):
            con.execute("INSERT INTO kpi_refresh_state VALUES ($k, $s, $h, $at)",
                        {"k": kid, "s": SOURCE, "h": plan.kpis[kid].definition_hash, "at": now})
        con.execute(f"DROP TABLE {merged}")
        con.execute("COMMIT")
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:
            pass
        raise
    finally:
        for name in ("new_api_caveats",):
            try:
                con.unregister(name)
            except duckdb.Error:
                pass
    return len(flat), len(flagged)
