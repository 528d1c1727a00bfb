"""History is kept: a KPI set to `draft` or `deprecated`, or whose file is removed, keeps its stored values.

`kpi refresh` computes only active KPIs but deletes nobody's values. The serving copy lists every KPI that
has values: active ones with their current definition, the others with the last definition they were
computed with (saved in `kpi_definition_snapshots` at each refresh) and their status (`draft`, `deprecated`,
or `retired` when the file is gone). The overview shows active KPIs only; the KPI page reaches them all.
`kpi prune` deletes the stored values of every KPI that is not active, when the team decides to.
"""

from __future__ import annotations

import json

import duckdb
import pyarrow as pa

from generator.parse.catalog import KpiCatalog

from .clock import utc_now

RETIRED = "retired"
# the store tables holding values and state per KPI (what `kpi prune` clears for inactive KPIs)
PER_KPI_TABLES = ("kpi_values", "kpi_value_caveats", "kpi_refresh_state", "kpi_definition_changes",
                  "kpi_definition_snapshots")


def with_history(store: duckdb.DuckDBPyConnection, current: pa.Table, catalog: KpiCatalog) -> pa.Table:
    """`current` definitions (active KPIs) plus the last known definition of every other KPI with values.

    Also saves `current` as the KPIs' latest snapshot (in the store, outside the refresh transaction:
    it is rewritten in full by every publish)."""
    now = utc_now()
    rows = current.to_pylist()
    store.execute("INSERT OR REPLACE INTO kpi_definition_snapshots SELECT unnest($k), unnest($d), $at",
                  {"k": [row["kpi_id"] for row in rows], "d": [json.dumps(row, default=str) for row in rows], "at": now})
    active = {row["kpi_id"] for row in rows}
    with_values = {r[0] for r in store.execute("SELECT DISTINCT kpi_id FROM kpi_values").fetchall()}
    kept = []
    for kpi_id, text in store.execute("SELECT kpi_id, definition FROM kpi_definition_snapshots "
                                      "ORDER BY kpi_id").fetchall():
        if kpi_id in active or kpi_id not in with_values:
            continue
        row = json.loads(text)
        sourced = catalog.kpis.get(kpi_id)
        row["status"] = sourced.kpi.status if sourced is not None else RETIRED
        kept.append({name: row.get(name) for name in current.schema.names})
    if not kept:
        return current
    return pa.concat_tables([current, pa.Table.from_pylist(kept, schema=current.schema)])


def inactive_kpis(store: duckdb.DuckDBPyConnection, active: set[str]) -> dict[str, int]:
    """KPIs with stored values that are not active now → how many values they hold."""
    found = store.execute("SELECT kpi_id, count(*) FROM kpi_values GROUP BY kpi_id ORDER BY kpi_id").fetchall()
    return {kpi_id: int(n) for kpi_id, n in found if kpi_id not in active}


def prune(store: duckdb.DuckDBPyConnection, kpi_ids: list[str]) -> None:
    """Delete everything stored for these KPIs, in one transaction."""
    store.execute("BEGIN TRANSACTION")
    try:
        for table in PER_KPI_TABLES:
            store.execute(f"DELETE FROM {table} WHERE list_contains($ids, kpi_id)", {"ids": kpi_ids})
        store.execute("COMMIT")
    except BaseException:
        store.execute("ROLLBACK")
        raise
