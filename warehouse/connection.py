"""Open the store DuckDB file: one place that knows about locks, retries and migrations."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb

from .raw_files import missing, refresh_view, store_path, view_is_current
from .schema import SchemaTooNewError, apply_migrations
from .serving_contract import retry_while_locked

DEFAULT_LOCK_TIMEOUT = 30.0
MEMORY_LIMIT_ENV = "KPIBRIDGE_MEMORY_LIMIT"
_MAX_LIMIT_MIB = 1024  # with Python, its libraries and DuckDB beyond its pool, a 10M-event refresh peaks under 1.5 GB (issue 13)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """`with transaction(con):` the statements inside commit together, or (on any error) none of them does."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


@contextmanager
def without_optimizer(con: duckdb.DuckDBPyConnection, name: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """`with without_optimizer(con, name):` the statements inside are planned without DuckDB's optimizer
    `name` (one of `duckdb_optimizers()`; a version without it changes nothing), the setting restored after."""
    known = con.execute("SELECT count(*) FROM duckdb_optimizers() WHERE name = $n", {"n": name}).fetchall()[0][0]
    before = str(con.execute("SELECT current_setting('disabled_optimizers')").fetchall()[0][0])
    change = bool(known) and name not in [n.strip() for n in before.split(",")]
    if change:
        con.execute("SET disabled_optimizers = $v", {"v": ",".join(filter(None, [before, name]))})
    try:
        yield con
    except BaseException:
        if change:  # not in a transaction the error aborted (that is the caller's to roll back): only speed differs
            with suppress(duckdb.TransactionException):
                con.execute("SET disabled_optimizers = $v", {"v": before})
        raise
    if change:
        con.execute("SET disabled_optimizers = $v", {"v": before})


class StoreError(RuntimeError):
    """The store cannot be opened; the message says why and what to do."""


class StoreLockedError(StoreError):
    """Another process holds the store's lock for longer than we were willing to wait."""


def connect_store(
    path: Path | str,
    read_only: bool = False,
    *,
    timeout: float = DEFAULT_LOCK_TIMEOUT,
    migrate: bool = True,
) -> duckdb.DuckDBPyConnection:
    """Open the store, waiting (jittered retries) while another process holds its lock.

    A read-write connection creates the parent folder and applies pending migrations (unless
    `migrate=False`); a read-only one requires the file to exist already.
    """
    path = Path(path)
    if read_only and not path.exists():
        raise StoreError(
            f"There is no warehouse at {path} yet: load data first (`kpi load demo` or `kpi load ga4-export`)."
        )
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    limit = memory_limit()  # before the file is opened: a limit DuckDB refuses leaves no new file behind
    con = _connect_with_retry(path, read_only, timeout)
    # past it DuckDB spills to disk (beside the store, `<store>.tmp`) rather than taking the machine's memory
    con.execute("SET memory_limit = $limit", {"limit": limit})
    if read_only or not migrate:
        return con
    try:
        apply_migrations(con)
        _raw_view_here(con)
    except SchemaTooNewError as exc:
        con.close()
        raise StoreError(str(exc)) from None
    except BaseException:
        con.close()
        raise
    return con


def _raw_view_here(con: duckdb.DuckDBPyConnection) -> None:
    """A store moved or copied with its raw files (`<stem>.raw/`) has `ga4_events` name the files where they
    were: it is made again over the files beside the store. A store whose raw files are not all there is
    refused, with the fix."""
    lost = missing(con)
    if lost:
        raise StoreError(
            f"The warehouse {store_path(con)} keeps its raw events in {lost[0].parent}, but {len(lost)} of its files "
            f"are not there (e.g. {lost[0].name}): copy or move the .raw folder together with the .duckdb file "
            "(or load the data again into a new warehouse with --db)."
        )
    if not view_is_current(con):
        with transaction(con):
            refresh_view(con)


def memory_limit() -> str:
    """DuckDB's memory limit on this machine: `KPIBRIDGE_MEMORY_LIMIT` (e.g. `2GB`) if set, else 40 % of the
    memory the machine (or its container) has, at most 1,024 MiB."""
    if os.environ.get(MEMORY_LIMIT_ENV):
        value = os.environ[MEMORY_LIMIT_ENV]
        try:
            duckdb.connect().execute("SET memory_limit = $limit", {"limit": value}).close()
        except duckdb.Error as exc:
            raise StoreError(
                f"{MEMORY_LIMIT_ENV}={value!r} is not a memory size DuckDB understands ({_first_line(exc)}): write "
                "a number and a unit, like 2GB or 1500MiB, or unset it to use 40 % of this machine's memory, at "
                "most 1,024 MiB."
            ) from None
        return value
    return f"{min(_MAX_LIMIT_MIB, int(_machine_memory_mib() * 0.4))}MiB"


_UNITS = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40, "PiB": 2**50}


def memory_limit_bytes(con: duckdb.DuckDBPyConnection) -> int:
    """The memory limit DuckDB works under on `con`, in bytes (it reports it as text: `1.0 GiB`)."""
    text = str(con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])
    number, _, unit = text.partition(" ")
    return int(float(number) * _UNITS.get(unit, 1))


STATEMENT_EVENT_BYTES = 400
"""DuckDB memory per event a KPI statement holds in its working tables (measured: 4 GB for the 12.3M events
the dashboard periods spread at 5M events): `statement_events` sizes statements by it."""


def statement_events(con: duckdb.DuckDBPyConnection) -> int:
    """The events one KPI statement may hold (a range's events, each as often as it is spread over ranges)
    without spilling past DuckDB's memory limit: past it, a statement spills to disk, which costs more than
    reading the attribution lookback again in a second statement."""
    return memory_limit_bytes(con) // STATEMENT_EVENT_BYTES


def _machine_memory_mib() -> float:
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    try:  # a container's own limit (cgroup v2), when lower
        text = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        total = min(total, int(text)) if text.isdigit() else total
    except OSError:
        pass
    return total / 2**20


def _connect_with_retry(path: Path, read_only: bool, timeout: float) -> duckdb.DuckDBPyConnection:
    def locked(_error: Exception) -> StoreLockedError:
        return StoreLockedError(
            f"The warehouse {path} is in use by another kpi process (a load or a refresh) "
            f"and stayed locked for {timeout:.0f} s: wait for it to finish, then run this again."
        )

    try:
        return retry_while_locked(lambda: duckdb.connect(str(path), read_only=read_only), timeout, locked)
    except StoreLockedError:
        raise
    except duckdb.IOException as exc:
        raise StoreError(f"Cannot open the warehouse {path}: {_first_line(exc)}") from None
    except duckdb.Error as exc:
        raise StoreError(
            f"Cannot open the warehouse {path}: {_first_line(exc)}. "
            "Is it a KPI Bridge warehouse file? Use --db to point at another file."
        ) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
