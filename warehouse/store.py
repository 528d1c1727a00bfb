"""Write events into the store: one transaction per load, each day replaced whole, every load audited."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import duckdb

if TYPE_CHECKING:
    import pyarrow as pa

from . import raw_files, slim_events
from .clock import utc_now
from .connection import memory_limit as machine_memory_limit
from .day_tables import IN_DAYS, days_params, provisional_days, record_day_tables
from .flat_params import FlatParam, mark_filled_if_whole, register
from .schema import COLUMN_NAMES
from .statements import keep_user_ids

_HASH_MODULUS = 1 << 64
# DuckDB would otherwise cache up to 80% of RAM while a large load's transaction is open; past this it
# spills to disk. Measured: a 10M-event demo load peaks at 1.5 GB with 1536MB instead of 3.4 GB; filling the
# flattened params as it inserts, a 10M-event export load peaks at 1.69 GB with 1536MB, 1.45 GB with 1280MB
# and 1.20 GB with 1024MB, in the same time (53 user CPU s).
LOAD_MEMORY_LIMIT = "1024MB"
_DAY_STATS_SQL = (
    "SELECT event_date, count(*), (sum(hash({cols})) % {mod})::UBIGINT FROM {table} WHERE {where} GROUP BY 1"
).format(cols=", ".join(slim_events.CHECKED), mod=_HASH_MODULUS, table=slim_events.TABLE, where=IN_DAYS)


class LoadError(RuntimeError):
    """A load that cannot go on; the message names the file (and line) and says what to fix."""


class EventSource(Protocol):
    """Where a load's rows come from: the demo generator or GA4 export files."""

    source: str  # recorded in load_audit.source, e.g. "demo" or "ga4_export"
    detail: str  # recorded in load_audit.message, e.g. which files or which seed

    def plan(self, con: duckdb.DuckDBPyConnection) -> list[list[str]]:
        """The `event_date`s (YYYYMMDD) this load replaces, as batches in loading order (each day once)."""
        ...

    def insert(self, con: duckdb.DuckDBPyConnection, days: list[str]) -> None:
        """Insert every row of these days with `insert_events` (the days were just emptied)."""
        ...


class LoadProgress(Protocol):
    """What a load reports while it runs (the CLI draws a progress bar from it)."""

    def start(self, total_days: int) -> None: ...

    def day_done(self, day: str, rows: int) -> None: ...


@dataclass(frozen=True)
class LoadSummary:
    """What one load did; `--format json` prints it."""

    load_id: int
    source: str
    rows: int
    days: int
    start_date: str | None
    end_date: str | None
    checksum: str
    seconds: float
    notes: tuple[str, ...] = ()  # what the load skipped or replaced, one sentence each (the export loader's)
    provisional: tuple[str, ...] = ()  # loaded days filled from intraday data only (warehouse/day_tables.py)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def insert_events(
    con: duckdb.DuckDBPyConnection, rows: str | pa.Table, params: dict[str, Any] | None = None
) -> None:
    """Store rows in the `ga4_events` shape (a SELECT of its columns, or an Arrow table): written to a raw file
    per day (`raw_files.py`), then their slim columns inserted from those files, with the flattened params
    extracted from their `event_params` in the same pass (`slim_events.py`, `flat_params.py`)."""
    if isinstance(rows, str):
        relation = con.sql(rows, params=params or None)
        days = [str(d) for (d,) in relation.select("event_date").distinct().fetchall()]
    else:
        # A relation, not con.register(): a view dropped inside the load's transaction would keep every
        # day's Arrow table alive until the commit.
        relation = con.from_arrow(rows.select(list(COLUMN_NAMES)))
        days = sorted({str(d) for d in rows.column("event_date").unique().to_pylist()})
    slim_events.insert_from_files(con, raw_files.write_days(con, relation, sorted(days)))


def day_stats(con: duckdb.DuckDBPyConnection, days: list[str]) -> dict[str, tuple[int, str]]:
    """Rows and content checksum of stored days (order-independent: a sum of row hashes)."""
    rows = con.execute(_DAY_STATS_SQL, days_params(days)).fetchall()
    found = {day: (int(n), f"{int(digest):016x}") for day, n, digest in rows}
    return {day: found.get(day, (0, f"{0:016x}")) for day in days}


def run_load(
    con: duckdb.DuckDBPyConnection,
    source: EventSource,
    progress: LoadProgress | None = None,
    memory_limit: str = LOAD_MEMORY_LIMIT,
    flat_keys: Sequence[FlatParam] = (),
) -> LoadSummary:
    """Replace every day `source` provides, in one transaction with its audit rows.

    `flat_keys`: event params to keep as plain columns (`flat_params.py`), registered first so that the load
    fills them as it inserts.

    On any failure nothing of the load stays; a `failed` audit row records the reason, and the
    error is raised again.
    """
    clock = time.perf_counter()
    started_at = utc_now()
    load_id = int(con.execute("SELECT coalesce(max(load_id), 0) + 1 FROM load_audit").fetchall()[0][0])
    # Row order inside the table does not matter (days are selected by value), and without it DuckDB
    # inserts in parallel with less memory.
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET memory_limit = $limit", {"limit": memory_limit})
    replaced: list[Path] = []  # the raw files of the days the load replaced: deleted once it commits
    try:
        raw_files.sweep(con)  # files a failed load left
        con.execute("BEGIN TRANSACTION")
        register(con, flat_keys)
        days, rows, checksum = _replace_days(con, source, load_id, progress, replaced)
        raw_files.name_load(con, load_id)
        raw_files.refresh_view(con)
        mark_filled_if_whole(con, days)
        _audit(con, load_id, source, days, rows, checksum, started_at, "ok", source.detail)
        provisional = tuple(provisional_days(con))
        con.execute("COMMIT")
        raw_files.delete(replaced)
    except BaseException as exc:
        _rollback(con)
        _quietly_sweep(con)
        message = str(exc) if isinstance(exc, LoadError) else f"{type(exc).__name__}: {exc}"
        outcome = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        _record_failure(con, load_id, source, started_at, outcome, message)
        raise
    finally:
        _quietly(con, "RESET preserve_insertion_order")
        _quietly(con, "SET memory_limit = $limit", {"limit": machine_memory_limit()})  # back to the store's
    return LoadSummary(
        load_id=load_id,
        source=source.source,
        rows=rows,
        days=len(days),
        start_date=min(days) if days else None,
        end_date=max(days) if days else None,
        checksum=checksum,
        seconds=round(time.perf_counter() - clock, 3),
        notes=tuple(getattr(source, "notes", ())),
        provisional=provisional,
    )


def _replace_days(
    con: duckdb.DuckDBPyConnection, source: EventSource, load_id: int, progress: LoadProgress | None,
    replaced: list[Path],
) -> tuple[list[str], int, str]:
    """Empty and refill each batch of days; record each day in loaded_days. Returns (days, rows, checksum);
    adds the raw files of the emptied days to `replaced`."""
    batches = source.plan(con)
    days = [day for batch in batches for day in batch]
    if len(set(days)) != len(days):
        raise ValueError("a load source planned the same day twice")
    if progress:
        progress.start(len(days))
    total_rows, digest = 0, 0
    for batch in batches:
        con.execute(f"DELETE FROM {slim_events.TABLE} WHERE {IN_DAYS}", days_params(batch))
        replaced += raw_files.drop_days(con, batch)
        source.insert(con, batch)
        keep_user_ids(con, batch)
        loaded_at = utc_now()
        stats = day_stats(con, batch)
        con.execute(  # one statement for the batch's days: one per day cost 0.2 CPU s a 90-day load
            "INSERT OR REPLACE INTO loaded_days SELECT unnest($days), unnest($rows), unnest($checksums), $load_id, $at",
            {"days": list(stats), "rows": [rows for rows, _ in stats.values()],
             "checksums": [checksum for _, checksum in stats.values()], "load_id": load_id, "at": loaded_at})
        for day, (rows, checksum) in stats.items():
            total_rows += rows
            digest = (digest + int(checksum, 16)) % _HASH_MODULUS
            if progress:
                progress.day_done(day, rows)
        record_day_tables(con, source, batch, load_id)
    return days, total_rows, f"{digest:016x}"


def _audit(
    con: duckdb.DuckDBPyConnection,
    load_id: int,
    source: EventSource,
    days: Sequence[str],
    rows: int | None,
    checksum: str | None,
    started_at: datetime,
    outcome: str,
    message: str,
) -> None:
    con.execute(
        "INSERT INTO load_audit VALUES ($id, $source, $start, $end, $rows, $checksum, $started, $finished, "
        "$outcome, $message)",
        {
            "id": load_id,
            "source": source.source,
            "start": _as_date(min(days)) if days else None,
            "end": _as_date(max(days)) if days else None,
            "rows": rows,
            "checksum": checksum,
            "started": started_at,
            "finished": utc_now(),
            "outcome": outcome,
            "message": message,
        },
    )


def _record_failure(
    con: duckdb.DuckDBPyConnection,
    load_id: int,
    source: EventSource,
    started_at: datetime,
    outcome: str,
    message: str,
) -> None:
    # Best effort: a failure to record the failure must not hide the original error.
    try:
        _audit(con, load_id, source, (), None, None, started_at, outcome, message[:2000])
    except duckdb.Error:
        pass


def _quietly_sweep(con: duckdb.DuckDBPyConnection) -> None:
    # Best effort, after the rollback: a file left behind is swept by the next load.
    try:
        raw_files.sweep(con)
    except (duckdb.Error, OSError):
        pass


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    # Fails only when no transaction is open (it failed before BEGIN, or DuckDB already aborted it).
    _quietly(con, "ROLLBACK")


def _quietly(con: duckdb.DuckDBPyConnection, statement: str, params: dict[str, Any] | None = None) -> None:
    try:
        con.execute(statement, params)
    except duckdb.Error:
        pass


def _as_date(day: str) -> date | None:
    try:
        return datetime.strptime(day, "%Y%m%d").date()
    except ValueError:
        return None


