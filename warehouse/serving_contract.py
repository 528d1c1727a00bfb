"""The serving file's contract: what `kpi refresh` writes and every reader (the dashboard, `kpi alerts`,
`kpi values`, `kpi status`) may rely on: its tables, their columns and DuckDB types, a version, where the file
is, and how to read it without blocking a refresh.

`warehouse/serving.py` writes the file and records `CONTRACT_VERSION` in `warehouse_info`; a test checks a
freshly published file against `TABLES`, and another checks docs/architecture.md's table against it. A file of
another version is not read around: the next `kpi refresh` rebuilds it, and the dashboard says so.

Light on purpose (DuckDB is imported when a file is read): `kpi dashboard` and the CLI import it at start-up.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from .location import resolve_db, serving_path

if TYPE_CHECKING:
    import duckdb

__all__ = ["CONTRACT_VERSION", "TABLES", "ServingBusy", "read_only", "resolve_db", "serving_path", "serving_db"]

# Raise it whenever a table or a column below changes: readers then ask for a `kpi refresh` instead of guessing.
CONTRACT_VERSION = 2
VERSION_KEY = "contract_version"  # its key in warehouse_info
LOCK_MESSAGE = "Could not set lock"  # DuckDB's words when another process holds the file
LOCK_TIMEOUT_SECONDS = 10.0
CHOICES_TABLE = "breakdown_choices"

_KPI_ROW = ("kpi_id VARCHAR", "date DATE", "breakdown VARCHAR", "breakdown_value VARCHAR")
_NUMBERS = ("value DOUBLE", "numerator DOUBLE", "denominator DOUBLE", "definition_hash VARCHAR")

# table → its columns, "name TYPE", in the order the file holds them (DuckDB's type names).
TABLES: dict[str, tuple[str, ...]] = {
    "kpi_definitions": (
        "kpi_id VARCHAR", "title VARCHAR", "description VARCHAR", "objective VARCHAR", "owner VARCHAR",
        "team VARCHAR", "status VARCHAR", "format VARCHAR", "currency VARCHAR", "direction VARCHAR",
        "time_grain VARCHAR", "aggregation VARCHAR", "breakdowns VARCHAR[]", "breakdown_labels VARCHAR[]",
        "warn_threshold DOUBLE", "critical_threshold DOUBLE", "events VARCHAR[]", "tags VARCHAR[]",
        "plain_words VARCHAR", "definition_hash VARCHAR", "source_file VARCHAR", "api_note VARCHAR",
        "distinct_units BOOLEAN", "target_per VARCHAR", "target_projection VARCHAR", "alerts_enabled BOOLEAN",
        "alert_relative_change DOUBLE", "alert_absolute_change DOUBLE", "alert_max_violation_rate DOUBLE",
    ),
    "kpi_targets": ("kpi_id VARCHAR", "valid_from DATE", "value DOUBLE"),
    "kpi_values": (*_KPI_ROW, *_NUMBERS, "source VARCHAR", "computed_at TIMESTAMP", "engine VARCHAR"),
    "kpi_period_values": (
        "kpi_id VARCHAR", "grain VARCHAR", "period_start DATE", "period_end DATE", "breakdown VARCHAR",
        "breakdown_value VARCHAR", *_NUMBERS, "computed_at TIMESTAMP", "engine VARCHAR",
    ),
    "kpi_value_caveats": (*_KPI_ROW, "source VARCHAR", "caveats VARCHAR[]"),
    "kpi_definition_changes": ("kpi_id VARCHAR", "definition_hash VARCHAR", "effective_from DATE"),
    "event_quality": (
        "date DATE", "event_name VARCHAR", "events BIGINT", "invalid_events BIGINT", "missing_required BIGINT",
        "wrong_type BIGINT", "out_of_range BIGINT", "pii_suspect BIGINT", "in_spec BOOLEAN",
        "duplicate_transactions BIGINT", "no_session_id BIGINT", "cookieless BIGINT", "bad_event_name BIGINT",
    ),
    "attribution_methods": ("date DATE", "method VARCHAR", "sessions BIGINT"),
    "kpi_attribution": ("kpi_id VARCHAR",),
    "event_status": (
        "event_name VARCHAR", "in_spec BOOLEAN", "first_seen DATE", "last_seen DATE", "events BIGINT",
        "invalid_events BIGINT", "kpis VARCHAR[]",
    ),
    "event_spec_versions": (
        "event_name VARCHAR", "date DATE", "spec_version VARCHAR", "events BIGINT", "no_consent_events BIGINT",
    ),
    "event_spec": ("event_name VARCHAR", "spec_version VARCHAR", "before_consent BOOLEAN"),
    "kpi_value_findings": (
        "kpi_id VARCHAR", "code VARCHAR", "level VARCHAR", "message VARCHAR", "hint VARCHAR", "file VARCHAR",
        "line BIGINT", "column BIGINT",
    ),
    "breakdown_allowed_values": ("kpi_id VARCHAR", "breakdown VARCHAR", "allowed VARCHAR[]"),
    "breakdown_choices": ("breakdown VARCHAR", "breakdown_value VARCHAR"),
    "warehouse_info": ("key VARCHAR", "value VARCHAR"),
}


def with_validity(rows: str, catalog: str = "") -> str:
    """`rows` (kpi_id, breakdown, breakdown_value, …) plus `invalid`: the value looks like personal data (the
    warehouse's own PII pattern, kept in warehouse_info) or lies outside the values the events catalog allows
    for that param. The dashboard groups those and never shows them. `catalog`: the serving file's name when it
    is attached to another connection (`serving.py`, a constant), "" when it is the connection's own."""
    at = f"{catalog}." if catalog else ""
    return (
        "SELECT r.*, coalesce(regexp_matches(r.breakdown_value, "
        f"(SELECT value FROM {at}warehouse_info WHERE key = 'pii_pattern')), false) "
        "OR coalesce(r.breakdown_value <> '(not set)' AND NOT list_contains(a.allowed, r.breakdown_value), false) "
        f"AS invalid FROM ({rows}) r LEFT JOIN {at}breakdown_allowed_values a "
        "ON a.kpi_id = r.kpi_id AND a.breakdown = r.breakdown"
    )


def write_breakdown_choices(con: duckdb.DuckDBPyConnection, catalog: str = "") -> None:
    """Fill `breakdown_choices`, the dashboard's global filter: each breakdown value some KPI has, unless it is
    invalid (`with_validity`) for any KPI that has it (a filter menu must not show what a chart hides). Written
    once per refresh, read on every page run; `catalog` as for `with_validity`."""
    at = f"{catalog}." if catalog else ""
    rows = f"SELECT DISTINCT kpi_id, breakdown, breakdown_value FROM {at}kpi_values WHERE breakdown <> ''"
    con.execute(f"DELETE FROM {at}breakdown_choices")
    con.execute(f"INSERT INTO {at}breakdown_choices SELECT breakdown, breakdown_value FROM ({with_validity(rows, catalog)}) "
                "GROUP BY ALL HAVING NOT bool_or(invalid) ORDER BY breakdown, breakdown_value")


def columns(table: str) -> list[tuple[str, str]]:
    """(name, DuckDB type) of each column of `table`, in order."""
    return [(spec.split(" ", 1)[0], spec.split(" ", 1)[1]) for spec in TABLES[table]]


def create_statements() -> list[str]:
    """`CREATE TABLE` for each table (an empty file to the contract: test fixtures, a refresh over nothing)."""
    return [f'CREATE TABLE {table} ({", ".join(_quoted(spec) for spec in specs)})' for table, specs in TABLES.items()]


def _quoted(spec: str) -> str:
    name, kind = spec.split(" ", 1)
    return f'"{name}" {kind}'


def serving_db(db: Path | None) -> Path:
    """The serving file for `--db` (None: $KPIBRIDGE_DB, else the default store)."""
    return serving_path(resolve_db(db))


def outdated(version: str | None) -> str:
    """The one sentence a reader shows for a serving file of another contract version ('' when it is current)."""
    if version == str(CONTRACT_VERSION):
        return ""
    return ("This serving file was written by another version of KPI Bridge; "
            "the next `kpi refresh` rebuilds it.")


class ServingBusy(RuntimeError):
    """The serving file stayed locked by a writer for longer than the reader was willing to wait."""


T = TypeVar("T")


def read_only(path: Path | str, work: Callable[[duckdb.DuckDBPyConnection], T],
              timeout: float = LOCK_TIMEOUT_SECONDS) -> T:
    """`work(connection)` on a short-lived read-only connection, closed before returning; retried (jittered)
    while a writer briefly holds the file's lock, `ServingBusy` after `timeout` seconds."""
    import duckdb

    def attempt() -> T:
        with duckdb.connect(str(path), read_only=True) as con:
            return work(con)

    return retry_while_locked(attempt, timeout, lambda error: ServingBusy(f"{path} is locked by a writer: {error}"))


def retry_while_locked(attempt: Callable[[], T], timeout: float, busy: Callable[[Exception], Exception]) -> T:
    """`attempt()`, again after a jittered pause while DuckDB says another process holds the file's lock;
    `busy(error)` is raised once `timeout` seconds have passed. The one lock-retry loop: the serving file's
    readers and the store's connections (connection.py) use it."""
    import duckdb

    deadline = time.monotonic() + timeout
    while True:
        try:
            return attempt()
        except duckdb.IOException as error:
            if LOCK_MESSAGE not in str(error):
                raise
            if time.monotonic() > deadline:
                raise busy(error) from error
            time.sleep(0.02 + random.random() * 0.13)
