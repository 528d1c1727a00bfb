"""The serving copy: everything the dashboard, `kpi values` and `kpi status` read, swapped in atomically.

Its tables, columns, types and version are declared in serving_contract.py (tests check this file against it).

It is built as a new file beside the store, closed (which checkpoints it), then renamed over the old
one, so a reader sees either the previous copy or the new one, never a half-written file, and never
holds a lock the loaders need (docs/architecture.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path

import duckdb
import pyarrow as pa

from generator.parse.catalog import KpiCatalog
from generator.plan.api_plan import ApiPlan, compile_api_plan
from generator.plan.queries import EventParamBreakdown, QueryPlan
from generator.spec.plain_words import describe_kpi
from generator.sql.buckets import counts_distinct_units

from .attribution_methods import publish_attribution
from .clock import utc_now
from .day_tables import provisional_days
from .event_stamps import publish_event_stamps
from .history import with_history
from .pending import kill_point, pending
from .quality import PII_RE
from .serving_contract import (
    CHOICES_TABLE,
    CONTRACT_VERSION,
    TABLES,
    VERSION_KEY,
    serving_path,
    write_breakdown_choices,
)
from .value_findings import publish_value_findings


def definitions_table(catalog: KpiCatalog, plan: QueryPlan, api: ApiPlan | None = None) -> pa.Table:
    api = api or compile_api_plan(plan)
    rows = []
    for kid, q in plan.kpis.items():
        sk = catalog.kpis[kid]
        k = sk.kpi
        warn, critical = k.thresholds.for_direction(k.direction) if k.thresholds else (None, None)
        rows.append({
            "kpi_id": kid, "title": k.title, "description": k.description, "objective": k.objective,
            "owner": k.owner, "team": k.team, "status": k.status, "format": k.format, "currency": k.currency,
            "direction": k.direction, "time_grain": k.time_grain, "aggregation": q.aggregation,
            "breakdowns": [b.name for b in q.breakdowns],
            "breakdown_labels": [b.label for b in q.breakdowns],
            "warn_threshold": None if warn is None else float(warn),
            "critical_threshold": None if critical is None else float(critical),
            "events": list(q.events), "tags": list(k.tags), "plain_words": describe_kpi(q),
            "definition_hash": q.definition_hash, "source_file": sk.doc.path,
            "api_note": api.kpis[kid].reason if kid in api.kpis else None,
            **_period_and_alerts(k),
            # its period values are not sums of days: read them from kpi_period_values
            "distinct_units": counts_distinct_units(plan, kid),
        })
    schema = pa.schema([
        ("kpi_id", pa.string()), ("title", pa.string()), ("description", pa.string()), ("objective", pa.string()),
        ("owner", pa.string()), ("team", pa.string()), ("status", pa.string()), ("format", pa.string()),
        ("currency", pa.string()), ("direction", pa.string()), ("time_grain", pa.string()),
        ("aggregation", pa.string()), ("breakdowns", pa.list_(pa.string())),
        ("breakdown_labels", pa.list_(pa.string())), ("warn_threshold", pa.float64()),
        ("critical_threshold", pa.float64()), ("events", pa.list_(pa.string())), ("tags", pa.list_(pa.string())),
        ("plain_words", pa.string()), ("definition_hash", pa.string()), ("source_file", pa.string()),
        ("api_note", pa.string()), ("distinct_units", pa.bool_()), *PERIOD_AND_ALERT_COLUMNS,
    ])
    return pa.Table.from_pylist(rows, schema=schema)


# What a target is for and when `kpi alerts` speaks up: read by the KPI page's pacing and by the alerts.
PERIOD_AND_ALERT_COLUMNS = [
    ("target_per", pa.string()), ("target_projection", pa.string()), ("alerts_enabled", pa.bool_()),
    ("alert_relative_change", pa.float64()), ("alert_absolute_change", pa.float64()),
    ("alert_max_violation_rate", pa.float64()),
]


def _period_and_alerts(k) -> dict[str, object]:
    target = k.target
    alerts = k.alerts

    def num(name: str) -> float | None:
        value = getattr(alerts, name) if alerts is not None else None
        return None if value is None else float(value)

    return {
        "target_per": k.target_per(), "target_projection": getattr(target, "projection", None),
        "alerts_enabled": alerts.enabled if alerts is not None else True,
        "alert_relative_change": num("relative_change"), "alert_absolute_change": num("absolute_change"),
        "alert_max_violation_rate": num("max_violation_rate"),
    }


def targets_table(catalog: KpiCatalog, plan: QueryPlan) -> pa.Table:
    rows = [{"kpi_id": kid, "valid_from": step.from_, "value": float(step.value)}
            for kid in plan.kpis for step in catalog.kpis[kid].kpi.target_steps()]
    schema = pa.schema([("kpi_id", pa.string()), ("valid_from", pa.date32()), ("value", pa.float64())])
    return pa.Table.from_pylist(rows, schema=schema)


def allowed_values_table(catalog: KpiCatalog, plan: QueryPlan) -> pa.Table:
    """Per KPI and param breakdown, the values the events catalog allows (its `enum`), so the dashboard can
    group anything else as invalid instead of showing it. Only where every event of the KPI that has the
    param lists its values; a free-text param has no row."""
    rows = []
    for kid, q in plan.kpis.items():
        for b in q.breakdowns:
            if not isinstance(b, EventParamBreakdown):
                continue
            found = [catalog.events[e].spec.params.get(b.param) for e in q.events if e in catalog.events]
            specs = [p for p in found if p is not None]
            enums = [p.enum for p in specs if p.enum]
            if specs and len(enums) == len(specs):
                allowed = sorted({str(v) for enum in enums for v in enum})
                rows.append({"kpi_id": kid, "breakdown": b.name, "allowed": allowed})
    schema = pa.schema([("kpi_id", pa.string()), ("breakdown", pa.string()), ("allowed", pa.list_(pa.string()))])
    return pa.Table.from_pylist(rows, schema=schema)


def _kpis_per_event(plan: QueryPlan) -> pa.Table:
    pairs = sorted({(e, kid) for kid, q in plan.kpis.items() for e in q.events})
    return pa.table({"event_name": pa.array([e for e, _ in pairs], pa.string()),
                     "kpi_id": pa.array([k for _, k in pairs], pa.string())})


CATALOG_KEY = "catalog_hash"  # its key in warehouse_info: the KPI files the copy was published from


def catalog_hash(catalog: KpiCatalog) -> str:
    """16 hex digits of SHA-256 over what the KPI files say (every KPI's and event's fields, and their files):
    a copy published from other files is behind them even when no value changed (a new title, target)."""
    payload = {
        "kpis": {kid: [sk.kpi.model_dump(mode="json"), str(sk.doc.path)] for kid, sk in sorted(catalog.kpis.items())},
        "events": {name: [ev.spec.model_dump(mode="json"), ev.builtin, None if ev.doc is None else str(ev.doc.path)]
                   for name, ev in sorted(catalog.events.items())},
        "user_properties": {k: v.model_dump(mode="json") for k, v in sorted(catalog.user_properties.items())},
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def serving_current(store_path: Path, since: dt.datetime, catalog: KpiCatalog) -> bool:
    """True when the serving copy holds what the store held after the refresh of `since` (naive UTC), published
    from these KPI files by this version of the contract, and no refresh stopped before swapping its copy in."""
    target = serving_path(store_path)
    if not target.exists():
        return False
    try:
        with duckdb.connect(str(target), read_only=True) as con:
            info = dict(con.execute("SELECT key, value FROM warehouse_info").fetchall())
    except duckdb.Error:
        return False
    if pending(target, info.get("refresh_id")) is not None:
        return False
    try:
        published = dt.datetime.fromisoformat(str(info.get("refreshed_at")))
    except ValueError:
        return False
    return (info.get(VERSION_KEY) == str(CONTRACT_VERSION) and info.get(CATALOG_KEY) == catalog_hash(catalog)
            and published >= since.replace(microsecond=0))


def publish_serving(store: duckdb.DuckDBPyConnection, store_path: Path, catalog: KpiCatalog,
                    plan: QueryPlan, refresh_id: str | None = None, findings: list | None = None,
                    api: ApiPlan | None = None) -> Path:
    """Write a fresh serving file from the store and swap it in; return its path.

    `refresh_id` (warehouse/pending.py) is recorded in `warehouse_info`, so readers can tell this copy
    is the one the refresh that marked itself pending produced. `findings`: the refresh's checks of the KPI
    files against the data (value_findings.py); None: checked here. `api`: the plan's Data API plan when the caller
    has it (`Compiled.api_plan`), else compiled here."""
    target = serving_path(store_path)
    tmp = target.with_name(target.name + f".tmp-{os.getpid()}")
    for leftover in (tmp, Path(f"{tmp}.wal")):
        leftover.unlink(missing_ok=True)
    store.register("src_definitions", with_history(store, definitions_table(catalog, plan, api), catalog))
    store.register("src_targets", targets_table(catalog, plan))
    store.register("src_event_kpis", _kpis_per_event(plan))
    store.register("src_allowed_values", allowed_values_table(catalog, plan))
    try:
        store.execute("ATTACH $p AS serving", {"p": str(tmp)})
        try:
            store.execute("CREATE TABLE serving.kpi_definitions AS SELECT * FROM src_definitions")
            store.execute("CREATE TABLE serving.kpi_targets AS SELECT * FROM src_targets ORDER BY kpi_id, valid_from")
            store.execute("CREATE TABLE serving.kpi_values AS SELECT * FROM kpi_values "
                          "WHERE kpi_id IN (SELECT kpi_id FROM src_definitions) "
                          "ORDER BY kpi_id, date, breakdown, breakdown_value, source")
            store.execute("CREATE TABLE serving.kpi_value_caveats AS SELECT * FROM kpi_value_caveats "
                          "WHERE kpi_id IN (SELECT kpi_id FROM src_definitions) "
                          "ORDER BY kpi_id, date, breakdown, breakdown_value, source")
            store.execute("CREATE TABLE serving.kpi_definition_changes AS SELECT * FROM kpi_definition_changes "
                          "WHERE kpi_id IN (SELECT kpi_id FROM src_definitions) ORDER BY kpi_id, effective_from")
            store.execute("CREATE TABLE serving.breakdown_allowed_values AS SELECT * FROM src_allowed_values")
            store.execute("CREATE TABLE serving.kpi_period_values AS SELECT * FROM kpi_period_values "
                          "WHERE kpi_id IN (SELECT kpi_id FROM src_definitions) "
                          "ORDER BY kpi_id, grain, period_start, period_end, breakdown, breakdown_value")
            store.execute("CREATE TABLE serving.event_quality AS SELECT * FROM event_quality ORDER BY date, event_name")
            store.execute("""
                CREATE TABLE serving.event_status AS
                WITH seen AS (
                    SELECT event_name, bool_or(in_spec) AS in_spec, min(date) AS first_seen, max(date) AS last_seen,
                           sum(events)::BIGINT AS events, sum(invalid_events)::BIGINT AS invalid_events
                    FROM event_quality GROUP BY event_name
                ),
                spec AS (SELECT DISTINCT event_name FROM src_event_kpis),
                kpis AS (SELECT event_name, list(kpi_id ORDER BY kpi_id) AS kpis FROM src_event_kpis GROUP BY ALL)
                SELECT coalesce(seen.event_name, spec.event_name) AS event_name,
                       coalesce(seen.in_spec, true) AS in_spec, seen.first_seen, seen.last_seen,
                       coalesce(seen.events, 0)::BIGINT AS events,
                       coalesce(seen.invalid_events, 0)::BIGINT AS invalid_events,
                       coalesce(kpis.kpis, []::VARCHAR[]) AS kpis
                FROM seen FULL OUTER JOIN spec ON seen.event_name = spec.event_name
                LEFT JOIN kpis ON kpis.event_name = coalesce(seen.event_name, spec.event_name)
                ORDER BY event_name
            """)
            publish_event_stamps(store, catalog)  # spec versions and consent (event_stamps.py)
            publish_value_findings(store, catalog, findings)  # why a KPI is empty (value_findings.py)
            publish_attribution(store, plan)  # sessions per attribution method and day (attribution_methods.py)
            info = store.execute("""
                SELECT min(event_date), max(event_date) FROM loaded_days
            """).fetchall()[0]
            store.execute("CREATE TABLE serving.warehouse_info (key VARCHAR PRIMARY KEY, value VARCHAR)")
            now = utc_now().isoformat(timespec="seconds")
            info_rows = {"refreshed_at": now, "data_start": _iso(info[0]), "data_end": _iso(info[1]),
                         "store": str(store_path), "refresh_id": refresh_id, CATALOG_KEY: catalog_hash(catalog),
                         VERSION_KEY: str(CONTRACT_VERSION), "pii_pattern": PII_RE,
                         "provisional_days": ",".join(provisional_days(store))}
            store.execute("INSERT INTO serving.warehouse_info SELECT unnest($k), unnest($v)",
                          {"k": list(info_rows), "v": list(info_rows.values())})
            store.execute(f"CREATE TABLE serving.{CHOICES_TABLE} ({', '.join(TABLES[CHOICES_TABLE])})")
            write_breakdown_choices(store, "serving")  # the dashboard's filter, once per refresh
        finally:
            store.execute("DETACH serving")
    finally:
        for name in ("src_definitions", "src_targets", "src_event_kpis", "src_allowed_values"):
            store.unregister(name)
    if Path(f"{tmp}.wal").exists():  # DETACH checkpoints; a WAL left over would mean it did not
        raise RuntimeError(f"the serving copy {tmp} was not checkpointed; the previous copy stays in place")
    kill_point("serving-written")
    os.replace(tmp, target)
    kill_point("serving-swapped")
    return target


def _iso(day: str | None) -> str | None:
    return None if day is None else dt.datetime.strptime(day, "%Y%m%d").date().isoformat()
