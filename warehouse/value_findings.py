"""Filter and breakdown values checked against the loaded data, and KPIs that compute nothing.

The warehouse side of `generator/rules/data_values.py`: one `SELECT DISTINCT` per dimension or event param
the active KPIs filter or break down by (`generator.sql.values`, the same expressions as the KPIs' SQL),
over every loaded day, and per KPI how many of its daily totals there are and how many are not 0. The pure
checker turns them into located warnings; `kpi refresh` prints them and stores them in the serving copy
(`kpi_value_findings`), where the dashboard reads why a card is empty; `kpi validate --db` prints them too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Set

import duckdb
import pyarrow as pa

from generator.issues import Issue
from generator.parse.catalog import KpiCatalog
from generator.rules.data_values import KpiOutcome, LoadedDays, check_against_data
from generator.rules.value_uses import subjects

from .kpi_values import SOURCE
from .observed_values import observed

FINDINGS_COLUMNS = [("kpi_id", pa.string()), ("code", pa.string()), ("level", pa.string()),
                    ("message", pa.string()), ("hint", pa.string()), ("file", pa.string()), ("line", pa.int64()),
                    ("column", pa.int64())]


def loaded_days(con: duckdb.DuckDBPyConnection) -> LoadedDays | None:
    first, last, count = con.execute("SELECT min(event_date), max(event_date), count(*) FROM loaded_days").fetchall()[0]
    if not count:
        return None
    day = lambda text: dt.datetime.strptime(text, "%Y%m%d").date()  # noqa: E731
    return LoadedDays(day(first), day(last), int(count))


def kpi_outcomes(con: duckdb.DuckDBPyConnection, days: LoadedDays) -> dict[str, KpiOutcome]:
    """Per KPI, its stored daily totals from the export over the loaded days, and how many are not 0."""
    rows = con.execute("""
        SELECT kpi_id, count(*), count(*) FILTER (WHERE value IS NOT NULL AND value <> 0)
        FROM kpi_values WHERE breakdown = '' AND source = $s AND date BETWEEN $a AND $b GROUP BY kpi_id
    """, {"s": SOURCE, "a": days.first, "b": days.last}).fetchall()
    return {kid: KpiOutcome(int(n), int(nonzero)) for kid, n, nonzero in rows}


def check_loaded_values(con: duckdb.DuckDBPyConnection, catalog: KpiCatalog, skip: Set[str] = frozenset(), *,
                        keep: bool = True, again: bool = False, fresh_since: dt.datetime | None = None) -> list[Issue]:
    """Every value, breakdown and KPI the loaded data does not bear out (nothing when no day is loaded).

    `skip`: KPIs whose statement failed this time (their values are old, so "computes nothing" would mislead).
    Each day's values are read once and kept (`observed_values.py`); `keep` False on a read-only store,
    `again` to read every day anew but for those read at or after `fresh_since` (by this refresh)."""
    days = loaded_days(con)
    if days is None:
        return []
    values = observed(con, subjects(catalog), keep=keep, again=again, fresh_since=fresh_since)
    issues = check_against_data(catalog, values, kpi_outcomes(con, days), days)
    files = {sk.doc.path: kid for kid, sk in catalog.kpis.items()}
    return [i for i in issues if files.get(i.location.file) not in skip]


def findings_table(catalog: KpiCatalog, issues: list[Issue]) -> pa.Table:
    """The findings as rows of `kpi_value_findings`, each with the KPI its file holds."""
    files = {sk.doc.path: kid for kid, sk in catalog.kpis.items()}
    rows = [{"kpi_id": files.get(i.location.file), "code": i.code, "level": i.level.value, "message": i.message,
             "hint": i.hint, "file": i.location.file, "line": i.location.line, "column": i.location.column}
            for i in issues]
    return pa.Table.from_pylist(rows, schema=pa.schema(FINDINGS_COLUMNS))


def publish_value_findings(store: duckdb.DuckDBPyConnection, catalog: KpiCatalog,
                           issues: list[Issue] | None) -> None:
    """Create `serving.kpi_value_findings` (the serving file is attached as `serving`); `issues` None: check now."""
    if issues is None:
        issues = check_loaded_values(store, catalog)
    store.register("src_value_findings", findings_table(catalog, issues))
    try:
        store.execute("CREATE TABLE serving.kpi_value_findings AS SELECT * FROM src_value_findings "
                      "ORDER BY kpi_id, file, line, code")
    finally:
        store.unregister("src_value_findings")
