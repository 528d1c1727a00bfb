"""`kpi load ga4-export`: GA4 BigQuery export files (Parquet or NDJSON) into the store, day by day."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import duckdb

from ..day_tables import stored_tables
from ..raw_files import keep_copy
from ..schema import COLUMN_NAMES
from ..slim_events import insert_from_files
from ..store import LoadError, insert_events
from .export_files import ExportFile, describe_read_error, find_export_files, inspect_export_file
from .export_tables import choose_files

BATCH_ROWS = 1_000_000  # rows per INSERT: large enough for DuckDB to work in parallel, small enough for progress
_DAY = re.compile(r"^\d{8}$")
_STAGE = "ga4_export_json_stage"
_FILE = "kb_file_index"  # the staged NDJSON rows' file (an index into the load's files)
_HASHES = "ga4_export_row_hashes"
_COLUMNS = ", ".join(COLUMN_NAMES)


class ExportSource:
    """Export files as a load source.

    A Parquet file of one day, every row of which is kept, is kept as it is (`raw_files.keep_copy`) and its
    slim columns read from the copy; other Parquet files are read many files per INSERT; NDJSON is staged once into a
    temporary table (JSON cannot be read by column), then inserted from there. Files that share a day
    always land in the same batch, so a day is never half replaced. Which files of a day are read (daily
    over intraday, one of two copies) is decided in `export_tables.py`; `notes` says what was skipped.
    """

    source = "ga4_export"

    def __init__(self, paths: Sequence[Path], spec: str | None = None) -> None:
        self.paths = list(paths)
        self.detail = f"{len(self.paths)} file(s) from {spec or self.paths[0]}"
        self.notes: list[str] = []
        self.day_tables: dict[str, str] = {}  # day → daily or intraday (warehouse/day_tables.py records it)
        self._files: list[ExportFile] = []
        self._kept: dict[int, set[str]] = defaultdict(set)  # file index → the days read from it
        self._all_days: dict[int, set[str]] = defaultdict(set)  # file index → every day it holds
        self._batch_files: dict[str, list[int]] = {}

    @classmethod
    def from_spec(cls, spec: str) -> ExportSource:
        """The source for a file, folder or glob (errors before the store is touched)."""
        return cls(find_export_files(spec), spec)

    def plan(self, con: duckdb.DuckDBPyConnection) -> list[list[str]]:
        files = self._files = [inspect_export_file(con, path) for path in self.paths]
        rows: dict[tuple[int, str], int] = {}
        if any(f.kind == "json" for f in files):
            con.execute(f"CREATE OR REPLACE TEMP TABLE {_STAGE} AS SELECT {_COLUMNS}, 0::INTEGER AS {_FILE} "
                        "FROM ga4_events LIMIT 0")
        for index, file in enumerate(files):
            found = self._stage_json(con, index) if file.kind == "json" else _day_rows(con, file)
            if not found:
                self.notes.append(f"{file.path} holds no events; nothing was read from it.")
            for day, count in found:
                rows[(index, day)] = count
                self._all_days[index].add(day)
        choice = choose_files(self.paths, rows, stored_tables(con), lambda d, i: self._overlaps(con, d, i))
        self.notes += choice.notes
        self.day_tables = choice.table
        rows_per_day: dict[str, int] = defaultdict(int)
        files_of_day: dict[str, list[ExportFile]] = defaultdict(list)
        for day, indexes in choice.files.items():
            for index in indexes:
                self._kept[index].add(day)
                rows_per_day[day] += rows[(index, day)]
                files_of_day[day].append(files[index])
        batches: list[list[str]] = []
        for group in _groups_sharing_days(files_of_day):
            size = sum(rows_per_day[d] for d in group)
            if batches and sum(rows_per_day[d] for d in batches[-1]) + size <= BATCH_ROWS:
                batches[-1].extend(group)
            else:
                batches.append(list(group))
        index_of = {id(f): i for i, f in enumerate(files)}
        for batch in batches:
            batch.sort()
            self._batch_files[batch[0]] = sorted({index_of[id(f)] for d in batch for f in files_of_day[d]})
        return batches

    def insert(self, con: duckdb.DuckDBPyConnection, days: list[str]) -> None:
        indexes = self._batch_files[days[0]]
        alike: dict[tuple, list[ExportFile]] = defaultdict(list)
        copied: list[int] = []
        for index in indexes:
            file = self._files[index]
            if file.kind == "parquet" and self._kept[index] == self._all_days[index] and len(self._all_days[index]) == 1:
                # a file of one day, kept whole (GA4 exports a table per day): the store keeps the file itself
                copied.append(keep_copy(con, file.path, next(iter(self._all_days[index])), file.projection))
            elif file.kind == "json":
                insert_events(con, f"SELECT * EXCLUDE ({_FILE}) FROM {_STAGE} WHERE {_FILE} = $file "
                              "AND list_contains($days, event_date)",
                              {"file": index, "days": sorted(self._kept[index] & set(days))})
            elif self._kept[index] == self._all_days[index]:
                alike[(file.projection, file.columns)].append(file)
            else:  # only some of its days: the others come from another file or stay as stored
                self._insert_parquet(con, [file], sorted(self._kept[index]))
        for group in alike.values():
            self._insert_parquet(con, group, None)
        try:
            insert_from_files(con, copied)
        except duckdb.Error as exc:
            copies = [self._files[i] for i in indexes if self._files[i].kind == "parquet"]
            raise LoadError(describe_read_error(_culprit(con, copies, exc), exc)) from None

    @staticmethod
    def _insert_parquet(con: duckdb.DuckDBPyConnection, group: list[ExportFile], days: list[str] | None) -> None:
        """Insert Parquet files that share a projection, in one read; only `days` of them when given."""
        sql = f"SELECT {group[0].projection} FROM {group[0].reader('paths')}"
        params: dict[str, object] = {"paths": [str(f.path) for f in group]}
        if days is not None:
            sql, params["days"] = f"SELECT * FROM ({sql}) WHERE list_contains($days, event_date)", days
        try:
            insert_events(con, sql, params)
        except duckdb.Error as exc:
            raise LoadError(describe_read_error(_culprit(con, group, exc), exc)) from None

    def _stage_json(self, con: duckdb.DuckDBPyConnection, index: int) -> list[tuple[str, int]]:
        file = self._files[index]
        try:
            con.execute(
                f"INSERT INTO {_STAGE} BY NAME SELECT {file.projection}, $file AS {_FILE} FROM {file.reader()}",
                {"path": str(file.path), "file": index},
            )
        except duckdb.Error as exc:
            raise LoadError(describe_read_error(file, exc)) from None
        rows = con.execute(
            f"SELECT event_date, count(*) FROM {_STAGE} WHERE {_FILE} = $file GROUP BY 1", {"file": index}
        ).fetchall()
        return _checked_days(file.path, rows)

    def _overlaps(self, con: duckdb.DuckDBPyConnection, day: str, indexes: list[int]) -> dict[tuple[int, int], int]:
        """For one day's candidate files: {(a, b): how many of a's rows are also in b} (rows compared whole)."""
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_HASHES} (file INTEGER, h UBIGINT)")
        for index in indexes:
            file = self._files[index]
            params: dict[str, object]
            if file.kind == "json":
                rows, params = f"SELECT * FROM {_STAGE} WHERE {_FILE} = $file", {"file": index}
            else:
                rows, params = f"SELECT {file.projection} FROM {file.reader()}", {"path": str(file.path)}
            con.execute(f"INSERT INTO {_HASHES} SELECT $file, hash({', '.join(COLUMN_NAMES)}) FROM ({rows}) "
                        "WHERE event_date = $day", {**params, "file": index, "day": day})
        found = con.execute(f"""
            SELECT a.file, b.file, count(*) FROM {_HASHES} a
            JOIN (SELECT DISTINCT file, h FROM {_HASHES}) b ON a.h = b.h AND a.file <> b.file
            GROUP BY 1, 2
        """).fetchall()
        con.execute(f"DROP TABLE {_HASHES}")
        return {(int(a), int(b)): int(n) for a, b, n in found}


def _day_rows(con: duckdb.DuckDBPyConnection, file: ExportFile) -> list[tuple[str, int]]:
    """(day, rows) of one Parquet file: reads only its event_date column."""
    try:
        rows = con.execute(
            f"SELECT event_date, count(*) FROM (SELECT {file.projection} FROM {file.reader()}) GROUP BY 1",
            {"path": str(file.path)},
        ).fetchall()
    except duckdb.Error as exc:
        raise LoadError(describe_read_error(file, exc)) from None
    return _checked_days(file.path, rows)


def _groups_sharing_days(files_of_day: dict[str, list[ExportFile]]) -> list[list[str]]:
    """Days linked by a file that holds several of them, in day order (a file is never split)."""
    groups: list[list[str]] = []
    group_of_file: dict[int, int] = {}
    for day in sorted(files_of_day):
        linked = {group_of_file[id(f)] for f in files_of_day[day] if id(f) in group_of_file}
        if linked:
            target = min(linked)
            for other in sorted(linked - {target}, reverse=True):  # merge groups the day connects
                groups[target].extend(groups[other])
                groups[other] = []
                group_of_file.update({k: target for k, v in group_of_file.items() if v == other})
        else:
            target = len(groups)
            groups.append([])
        groups[target].append(day)
        group_of_file.update({id(f): target for f in files_of_day[day]})
    return [g for g in groups if g]


def _culprit(con: duckdb.DuckDBPyConnection, group: list[ExportFile], exc: duckdb.Error) -> ExportFile:
    """The file a multi-file read failed on: named in DuckDB's message, else found by reading each."""
    for file in group:
        if str(file.path) in str(exc):
            return file
    for file in group:
        try:
            con.execute(
                f"SELECT count(*) FROM (SELECT {file.projection} FROM {file.reader()})", {"path": str(file.path)}
            ).fetchall()
        except duckdb.Error:
            return file
    return group[0]


def _checked_days(path: Path, rows: list[tuple[str | None, int]]) -> list[tuple[str, int]]:
    for day, _ in rows:
        if day is None or not _DAY.match(day):
            shown = "rows without an event_date" if day is None else f"event_date {day!r}"
            raise LoadError(f"{path} has {shown}: GA4 exports write the date as YYYYMMDD (e.g. 20240101).")
    return [(str(day), int(n)) for day, n in rows]
