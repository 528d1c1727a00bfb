"""The dashboard's only door to DuckDB: short-lived read-only reads of the serving database, cached.

The dashboard never opens the store (`kpi load` / `kpi refresh` write it) and never holds the
serving file beyond one page run: reads attach it read-only, fetch, and detach it (a run's reads share one
connection, `one_connection`, on an idle in-memory instance kept between runs), so a refresh can swap the
serving file at any moment. Results are
cached per file version (its inode, size and mtime), so a swapped-in file shows at once and an
unchanged one costs no query until the TTL expires.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TypeVar

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import streamlit as st
from warehouse.pending import pending
from warehouse.serving_contract import (
    CHOICES_TABLE,
    LOCK_TIMEOUT_SECONDS,
    VERSION_KEY,
    ServingBusy,
    columns,
    outdated,
    read_only,
    retry_while_locked,
    serving_db,
    with_validity,
)

from .cell_values import as_date, as_tuple
from .serving_file import GUIDANCE, SERVING_ENV, serving_path  # noqa: F401 - re-exported

CACHE_TTL_SECONDS = 60
# kpi_definitions' list columns, read as tuples
LIST_COLUMNS = tuple(name for name, kind in columns("kpi_definitions") if kind.endswith("[]"))
# A day may hold a KPI from both the GA4 export and the Data API (for `kpi reconcile`): count it once,
# preferring the export, which has no sampling or thresholding.
ONE_SOURCE = (
    "QUALIFY row_number() OVER (PARTITION BY kpi_id, date, breakdown, breakdown_value "
    "ORDER BY source = 'ga4_export' DESC, source) = 1"
)
# GA4's caveats on `ga4_api` values (thresholded, sampled, other_row): estimates. Caveats join on the
# source too, so a day the export wins never carries them.
CAVEATS_TABLE = "kpi_value_caveats"
T = TypeVar("T")


def serving_db_from_env() -> Path:
    """The serving database the app reads: $KPIBRIDGE_SERVING_DB, else the one beside the default store."""
    explicit = os.environ.get(SERVING_ENV)
    return Path(explicit) if explicit else serving_db(None)


def read_df(path: Path | str, sql: str, params: list | None = None, timeout: float | None = None):
    """Run one query on a fresh read-only connection, retrying while a writer holds the file's lock."""
    work = lambda con: con.execute(sql, params or []).df()  # noqa: E731
    return read_only(path, work) if timeout is None else read_only(path, work, timeout)


def file_version(path: Path) -> tuple[int, int, int] | None:
    """What changes when `kpi refresh` swaps the file in: inode, size, mtime. None when absent."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _cached_read(path: str, version: tuple | None, sql: str, params: tuple) -> pd.DataFrame:
    # `version` is a cache key (a new file version is a cache miss) and picks the run's shared connection.
    return _connected(path, version, lambda con: con.execute(sql, list(params)).df())


def _read(path: Path, sql: str, *params) -> pd.DataFrame:
    return _cached_read(str(path), file_version(path), sql, params)


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _cached_arrow(path: str, version: tuple | None, sql: str, params: tuple) -> pa.Table:
    # An Arrow table, for the large reads: fetched without a pandas conversion, and cheap to pickle into
    # (and out of) the cache, where a frame of dates and lists costs more than the query.
    return _connected(path, version, lambda con: con.sql(sql, params=list(params)).to_arrow_table())


def _read_arrow(path: Path, sql: str, *params) -> pa.Table:
    return _cached_arrow(str(path), file_version(path), sql, params)


@contextmanager
def one_connection(path: Path) -> Iterator[None]:
    """Within the block, reads of `path` that miss the cache share one read-only connection, opened by the
    first of them and closed when the block ends: a page run pays for one connection, not one per query
    (opening one costs more than most of the dashboard's queries). The file can still be swapped at any
    moment: a read of another file version than the one opened connects on its own."""
    previous = getattr(_run, "shared", None)
    shared = _SharedConnection(str(path))
    _run.shared = shared
    try:
        yield
    finally:
        _run.shared = previous
        shared.close()


_run = threading.local()  # the script thread's shared connection, set by `one_connection`


class _SharedConnection:
    def __init__(self, path: str) -> None:
        self.path = path
        self.version: tuple | None = None
        self.con: duckdb.DuckDBPyConnection | None = None

    def read(self, version: tuple, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        if self.con is None:
            con = retry_while_locked(
                lambda: _attached(self.path),
                LOCK_TIMEOUT_SECONDS,
                lambda error: ServingBusy(f"{self.path} is locked by a writer: {error}"),
            )
            # Shared only when the file did not change while it was opened: the connection then reads
            # exactly `version`, the key its results are cached under.
            if file_version(Path(self.path)) != version:
                try:
                    return work(con)
                finally:
                    _released(con)
            self.con, self.version = con, version
        if version != self.version:
            return read_only(self.path, work)
        # A cursor per read: a result left unfetched by one read (fetchone) must not block the next.
        with self.con.cursor() as cursor:
            cursor.execute("USE serving")
            return work(cursor)

    def close(self) -> None:
        if self.con is not None:
            _released(self.con)
            self.con = None


# In-memory DuckDB instances with nothing attached, for the next runs: creating one costs about 15 ms (more than
# most of a page's queries), attaching the file 1 ms. A run takes one (or creates one), attaches the file, and
# detaches it when it ends, so no instance holds the file between runs; concurrent runs each have their own.
_idle: list[duckdb.DuckDBPyConnection] = []
_idle_lock = threading.Lock()
MAX_IDLE = 4


def _attached(path: str) -> duckdb.DuckDBPyConnection:
    """A read-only connection to `path` that no other connection in this process shares. `duckdb.connect(path)`
    hands every caller the instance already open on that path, so while a run held one, a read of a file
    swapped in meanwhile would be served the old file. An in-memory database with the file attached is its own:
    an idle one (`_released`) or a new one."""
    with _idle_lock:
        con = _idle.pop() if _idle else None
    con = con or duckdb.connect()
    try:
        con.execute("ATTACH ? AS serving (READ_ONLY)", [path])
        con.execute("USE serving")
    except BaseException:
        con.close()
        raise
    return con


def _released(con: duckdb.DuckDBPyConnection) -> None:
    """Detach the file from an `_attached` connection and keep the instance for a next run (or close it)."""
    try:
        con.execute("USE memory")
        con.execute("DETACH serving")
    except duckdb.Error:
        con.close()
        return
    with _idle_lock:
        if len(_idle) < MAX_IDLE:
            _idle.append(con)
            return
    con.close()


def _connected(path: str, version: tuple | None, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
    """`work(connection)` on the run's shared connection when there is one for this file and version, else on
    a short-lived connection of its own."""
    shared = getattr(_run, "shared", None)
    if shared is None or shared.path != path or version is None:
        return read_only(path, work)
    return shared.read(version, work)


@dataclass(frozen=True)
class WarehouseStatus:
    """Whether the serving database can be shown, and if not, what to tell the reader."""

    path: Path
    state: str  # ok | missing | outdated | empty | unreadable | busy
    detail: str = ""
    data_start: date | None = None
    data_end: date | None = None
    refreshed_at: str | None = None
    updating: str = ""  # "Numbers being updated: …" when the serving copy is behind the store (warehouse/pending.py)
    intraday_days: tuple[date, ...] = ()  # days loaded from GA4's intraday table only (warehouse/day_tables.py)

    @property
    def ok(self) -> bool:
        return self.state == "ok"

    @property
    def span(self) -> tuple[date, date]:
        """The first and the last day of data: only an ok warehouse has them (the pages run only then)."""
        if self.data_start is None or self.data_end is None:
            raise ValueError(f"a warehouse that is {self.state} has no days of data")
        return self.data_start, self.data_end


def warehouse_status(path: Path) -> WarehouseStatus:
    """Check the serving database without raising: missing, outdated (another contract version), empty,
    unreadable, busy or ok."""
    version = file_version(path)
    if version is None:
        return WarehouseStatus(path, "missing", f"No serving database at `{path}`.")
    try:
        facts = _cached_facts(str(path), version)
    except ServingBusy as error:
        return WarehouseStatus(path, "busy", str(error))
    except duckdb.Error as error:
        return WarehouseStatus(path, "unreadable", f"`{path}` could not be read: {error}")
    if facts["outdated"]:
        return WarehouseStatus(path, "outdated", facts["outdated"])
    if not facts["kpis"] or not facts["values"]:
        return WarehouseStatus(path, "empty", f"`{path}` holds no KPI values yet.")
    behind = pending(path, facts.get("refresh_id"))  # not cached: the marker comes and goes on its own
    return WarehouseStatus(
        path, "ok", "", facts["data_start"], facts["data_end"], facts.get("refreshed_at"),
        behind.sentence() if behind else "", facts.get("intraday_days", ()),
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _cached_facts(path: str, version: tuple) -> dict:
    """Contract version, KPI and value counts, data span: one connection, not one per question."""

    def work(con) -> dict:
        tables = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        info: dict = {}
        if "warehouse_info" in tables:
            keys = [VERSION_KEY, "refreshed_at", "refresh_id", "provisional_days"]
            info = dict(con.execute("SELECT key, value FROM warehouse_info WHERE key IN (?, ?, ?, ?)", keys).fetchall())
        facts: dict = {"outdated": outdated(info.get(VERSION_KEY))}
        if facts["outdated"]:
            return facts
        facts["kpis"] = con.execute("SELECT count(*) FROM kpi_definitions").fetchone()[0]
        start, end, count = con.execute(
            "SELECT min(date), max(date), count(*) FROM kpi_values WHERE breakdown = ''"
        ).fetchone()
        facts.update(data_start=start, data_end=end, values=count)
        facts["refreshed_at"] = str(info["refreshed_at"]) if "refreshed_at" in info else None
        facts["refresh_id"] = str(info["refresh_id"]) if info.get("refresh_id") is not None else None
        facts["intraday_days"] = tuple(
            date(int(d[:4]), int(d[4:6]), int(d[6:])) for d in str(info["provisional_days"] or "").split(",")
            if len(d) == 8
        ) if "provisional_days" in info else ()
        return facts

    return _connected(path, version, work)


def kpi_definitions(path: Path) -> pd.DataFrame:
    """Every KPI definition: missing values as None (not NaN), list columns as tuples."""
    return _cached_definitions(str(path), file_version(path))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _cached_definitions(path: str, version: tuple | None) -> pd.DataFrame:
    # Cached once converted: every page run asks for the definitions more than once. Arrow's Python values
    # are already what the pages want (None for NULL, str, bool, float); lists become tuples.
    sql = "SELECT * FROM kpi_definitions ORDER BY kpi_id"
    table = _connected(path, version, lambda con: con.sql(sql).to_arrow_table())
    columns: dict[str, list[object]] = {}
    for name in table.column_names:
        values = table.column(name).to_pylist()
        if name in LIST_COLUMNS:
            columns[name] = [as_tuple(value) for value in values]
        else:
            columns[name] = [None if isinstance(value, float) and value != value else value for value in values]
    return pd.DataFrame(columns, columns=table.column_names, dtype=object)


def kpi_targets(path: Path) -> pd.DataFrame:
    """Time-phased targets: kpi_id, valid_from, value, sorted by valid_from."""
    frame = _read(path, "SELECT kpi_id, valid_from, value FROM kpi_targets ORDER BY kpi_id, valid_from")
    frame["valid_from"] = frame["valid_from"].map(as_date)
    return frame


def daily_totals(path: Path, start: date, end: date) -> pd.DataFrame:
    """The per-day totals (no breakdown) of every KPI between two dates, inclusive, one source a day.

    Columns kpi_id, date, value, numerator, denominator, definition_hash, source, and caveats: a tuple
    of GA4's caveats on the day's value (empty unless the day was taken from `ga4_api` and flagged).
    """
    return totals_over(path, [(start, end)])


def segment_totals(path: Path, segment: tuple[str, str], start: date, end: date) -> pd.DataFrame:
    """Like `daily_totals`, for one breakdown value ("everything for Paid Social"): every KPI that declares
    that breakdown, its rows for that value as the KPI's daily values."""
    return totals_over(path, [(start, end)], segment)


def totals_over(path: Path, ranges: Sequence[tuple[date, date]],
                segment: tuple[str, str] | None = None) -> pd.DataFrame:
    """`daily_totals` (or `segment_totals` for `segment`) on the days of `ranges` only, each an inclusive
    (first day, last day): the overview reads its period and its comparison periods, not the year between."""
    if not ranges:
        raise ValueError("totals_over needs at least one date range")
    # One fixed condition per range, the dates bound as parameters.
    days = " OR ".join(["date BETWEEN ? AND ?"] * len(ranges))
    spans: list[object] = [day for start_end in ranges for day in start_end]
    if segment is None:
        rows, params = "breakdown = ''", spans
    else:
        rows, params = "breakdown = ? AND breakdown_value = ?", [*segment, *spans]
    one_source = (
        "SELECT kpi_id, date, breakdown, breakdown_value, value, numerator, denominator, definition_hash, "
        f"source FROM kpi_values WHERE {rows} AND ({days}) {ONE_SOURCE}"
    )
    table = _read_arrow(
        path,
        "SELECT kpi_id, date, value, numerator, denominator, definition_hash, source, caveats "
        f"FROM ({_with_caveats(one_source)}) ORDER BY kpi_id, date",
        *params,
    )
    # Arrow hands DATE over as datetime.date (no per-row conversion); the caveat lists become tuples, the
    # few that are not empty converted one by one.
    frame = table.drop_columns("caveats").to_pandas(date_as_object=True)
    lists = table.column("caveats")
    caveats: list[tuple[str, ...]] = [()] * len(frame)
    for i in np.flatnonzero(pc.list_value_length(lists).to_numpy(zero_copy_only=False)):
        caveats[i] = tuple(lists[int(i)].as_py())
    frame["caveats"] = caveats
    return frame


def filter_choices(path: Path) -> dict[str, list[str]]:
    """The global filter's choices: each breakdown and its values, without invalid ones (personal data,
    values outside the catalog's list): a filter menu must not show what a chart hides. `kpi refresh` writes
    them (`serving_contract.write_breakdown_choices`): a page run reads a few rows, not every breakdown row."""
    rows = _read(path, f"SELECT breakdown, breakdown_value FROM {CHOICES_TABLE} ORDER BY breakdown, breakdown_value")
    choices: dict[str, list[str]] = {}
    for row in rows.itertuples(index=False):
        choices.setdefault(str(row.breakdown), []).append(str(row.breakdown_value))
    return choices


PERIOD_TABLE = "kpi_period_values"
FINDINGS_TABLE = "kpi_value_findings"  # kpi refresh's checks of the KPI files against the data


def value_findings(path: Path) -> pd.DataFrame:
    """Why KPIs may be empty (warehouse/value_findings.py): kpi_id, code, message, hint, file, line."""
    columns = ["kpi_id", "code", "message", "hint", "file", "line"]
    return _read(path, f"SELECT {', '.join(columns)} FROM {FINDINGS_TABLE} ORDER BY kpi_id, code, file, line")


def period_totals(path: Path) -> pd.DataFrame:
    """The exact totals over periods of the KPIs counting distinct users or sessions, stored by `kpi refresh`
    (dashboard presets and their comparisons, calendar weeks and months): kpi_id, grain, period_start,
    period_end, value, numerator, denominator."""
    columns = ["kpi_id", "grain", "period_start", "period_end", "value", "numerator", "denominator"]
    frame = _read(
        path,
        f"SELECT {', '.join(columns)} FROM {PERIOD_TABLE} WHERE breakdown = '' "
        "ORDER BY kpi_id, period_start, period_end",
    )
    for column in ("period_start", "period_end"):
        frame[column] = frame[column].map(as_date)
    return frame


def period_breakdowns(path: Path, kpi_id: str, start: date, end: date) -> pd.DataFrame:
    """One KPI's exact breakdown rows over exactly `start` … `end`, in `breakdown_rows`' shape (one row per
    breakdown value, dated `start`); empty when `kpi refresh` did not store that range."""
    exact = (
        "SELECT kpi_id, period_start AS date, breakdown, breakdown_value, value, numerator, denominator, "
        f"'ga4_export' AS source FROM {PERIOD_TABLE} WHERE kpi_id = ? AND breakdown <> '' AND grain = 'period' "
        "AND period_start = ? AND period_end = ?"
    )
    frame = _read(
        path,
        # invalid values (personal data, outside the catalog's list) are marked as in `breakdown_rows`
        f"SELECT * FROM ({with_validity(exact)}) ORDER BY breakdown, breakdown_value",
        kpi_id,
        start,
        end,
    )
    frame["date"] = frame["date"].map(as_date)
    frame["caveats"] = [() for _ in range(len(frame))]
    return frame


def breakdown_rows(path: Path, kpi_id: str, start: date, end: date) -> pd.DataFrame:
    """One KPI's per-day breakdown rows (every declared breakdown) between two dates, one source a day,
    with their caveats as in `daily_totals`."""
    one_source = (
        "SELECT kpi_id, date, breakdown, breakdown_value, value, numerator, denominator, source "
        f"FROM kpi_values WHERE kpi_id = ? AND breakdown <> '' AND date BETWEEN ? AND ? {ONE_SOURCE}"
    )
    frame = _read(path, with_validity(_with_caveats(one_source)), kpi_id, start, end)
    frame["date"] = frame["date"].map(as_date)
    frame["caveats"] = frame["caveats"].map(as_tuple)
    return frame


def _with_caveats(one_source: str) -> str:
    """The chosen rows of `one_source` plus their `caveats` (an empty list for a value GA4 did not flag)."""
    return (
        f"SELECT v.*, coalesce(c.caveats, []::VARCHAR[]) AS caveats FROM ({one_source}) v "
        f"LEFT JOIN {CAVEATS_TABLE} c ON c.kpi_id = v.kpi_id AND c.date = v.date "
        "AND c.breakdown = v.breakdown AND c.breakdown_value = v.breakdown_value AND c.source = v.source"
    )


def event_health(path: Path, start: date, end: date) -> pd.DataFrame:
    """Per event: volume and invalid events in the period, plus spec status and last sighting ever."""
    quality = (
        "SELECT event_name, sum(events) AS events, sum(invalid_events) AS invalid_events, "
        "bool_and(in_spec) AS in_spec FROM event_quality WHERE date BETWEEN ? AND ? GROUP BY event_name"
    )
    sql = (
        f"WITH q AS ({quality}) SELECT coalesce(q.event_name, s.event_name) AS event_name, "
        "coalesce(q.events, 0) AS events, coalesce(q.invalid_events, 0) AS invalid_events, "
        "coalesce(s.in_spec, q.in_spec) AS in_spec, s.last_seen "
        "FROM q FULL OUTER JOIN event_status s ON q.event_name = s.event_name"
    )
    frame = _read(path, sql, start, end)
    frame["last_seen"] = frame["last_seen"].map(as_date)
    return frame


def event_quality_checks(path: Path, start: date, end: date) -> pd.DataFrame:
    """Per event in the period: volume, invalid events, and each check's count (no values); GA4's own checks
    (duplicate transaction ids, no session id, cookieless, names GA4 rejects)."""
    return _read(
        path,
        "SELECT event_name, sum(events) AS events, sum(invalid_events) AS invalid_events, "
        "sum(missing_required) AS missing_required, sum(wrong_type) AS wrong_type, "
        "sum(out_of_range) AS out_of_range, sum(pii_suspect) AS pii_suspect, "
        + "".join(f"sum({c}) AS {c}, " for c in GA4_CHECKS)
        + "bool_and(in_spec) AS in_spec "
        "FROM event_quality WHERE date BETWEEN ? AND ? GROUP BY event_name "
        "ORDER BY invalid_events DESC, event_name",
        start,
        end,
    )


GA4_CHECKS = ("duplicate_transactions", "no_session_id", "cookieless", "bad_event_name")  # fixed names, no input


def attribution_rows(path: Path, start: date, end: date) -> list[tuple[str, str, int]]:
    """(YYYY-MM-DD, attribution method, sessions) per day in the period."""
    frame = _read(path, "SELECT strftime(date, '%Y-%m-%d') AS day, method, sessions FROM attribution_methods "
                        "WHERE date BETWEEN ? AND ? ORDER BY 1, 2", start, end)
    return [(str(d), str(m), int(n)) for d, m, n in frame.itertuples(index=False, name=None)]


def uses_attribution(path: Path, kpi_id: str) -> bool:
    """Whether the KPI's numbers depend on a session's source (a channel, source, medium or campaign)."""
    return not _read(path, "SELECT kpi_id FROM kpi_attribution WHERE kpi_id = ?", kpi_id).empty


def definition_changes(path: Path, kpi_id: str) -> pd.DataFrame:
    """When a KPI's definition changed: definition_hash, effective_from."""
    frame = _read(
        path,
        "SELECT definition_hash, effective_from FROM kpi_definition_changes "
        "WHERE kpi_id = ? ORDER BY effective_from",
        kpi_id,
    )
    frame["effective_from"] = frame["effective_from"].map(as_date)
    return frame

