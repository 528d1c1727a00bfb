"""`kpi load ga4-export`: GA4 BigQuery export files (Parquet or NDJSON) into the store, day by day."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import duckdb

from ..store import LoadError, insert_events
from .export_files import ExportFile, describe_read_error, find_export_files, inspect_export_file

BATCH_ROWS = 1_000_000  # rows per INSERT: large enough for DuckDB to work in parallel, small enough for progress
_DAY = re.compile(r"^\d{8}$")
_STAGE = "ga4_export_json_stage"


class ExportSource:
    """Export files as a load source.

    Parquet files are read straight into the store, many files per INSERT; NDJSON is staged once into a
    temporary table (JSON cannot be read by column), then inserted from there. Files that share a day
    always land in the same batch, so a day is never half replaced.
    """

    source = "ga4_export"

    def __init__(self, paths: Sequence[Path], spec: str | None = None) -> None:
        self.paths = list(paths)
        self.detail = f"{len(self.paths)} file(s) from {spec or self.paths[0]}"
        self._batch_files: dict[str, list[ExportFile]] = {}

    @classmethod
    def from_spec(cls, spec: str) -> ExportSource:
        """The source for a file, folder or glob (errors before the store is touched)."""
        return cls(find_export_files(spec), spec)

    def plan(self, con: duckdb.DuckDBPyConnection) -> list[list[str]]:
        files = [inspect_export_file(con, path) for path in self.paths]
        rows_per_day: dict[str, int] = defaultdict(int)
        files_of_day: dict[str, list[ExportFile]] = defaultdict(list)
        json_files = [f for f in files if f.kind == "json"]
        if json_files:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {_STAGE} AS SELECT * FROM ga4_events LIMIT 0")
        for file in files:
            for day, rows in (self._stage_json(con, file) if file.kind == "json" else _day_rows(con, file)):
                rows_per_day[day] += rows
                files_of_day[day].append(file)
        batches: list[list[str]] = []
        for group in _groups_sharing_days(files_of_day):
            size = sum(rows_per_day[d] for d in group)
            if batches and sum(rows_per_day[d] for d in batches[-1]) + size <= BATCH_ROWS:
                batches[-1].extend(group)
            else:
                batches.append(list(group))
        for batch in batches:
            batch.sort()
            self._batch_files[batch[0]] = list({id(f): f for d in batch for f in files_of_day[d]}.values())
        return batches

    def insert(self, con: duckdb.DuckDBPyConnection, days: list[str]) -> None:
        files = self._batch_files[days[0]]
        alike: dict[tuple, list[ExportFile]] = defaultdict(list)
        for file in files:
            if file.kind == "parquet":
                alike[(file.projection, file.columns)].append(file)
        for group in alike.values():
            try:
                insert_events(
                    con,
                    f"SELECT {group[0].projection} FROM {group[0].reader('paths')}",
                    {"paths": [str(f.path) for f in group]},
                )
            except duckdb.Error as exc:
                raise LoadError(describe_read_error(_culprit(con, group, exc), exc)) from None
        if any(f.kind == "json" for f in files):
            insert_events(con, f"SELECT * FROM {_STAGE} WHERE list_contains($days, event_date)", {"days": days})

    def _stage_json(self, con: duckdb.DuckDBPyConnection, file: ExportFile) -> list[tuple[str, int]]:
        before = con.execute(f"SELECT count(*) FROM {_STAGE}").fetchall()[0][0]
        try:
            con.execute(
                f"INSERT INTO {_STAGE} BY NAME SELECT {file.projection} FROM {file.reader()}",
                {"path": str(file.path)},
            )
        except duckdb.Error as exc:
            raise LoadError(describe_read_error(file, exc)) from None
        rows = con.execute(
            f"SELECT event_date, count(*) FROM {_STAGE} WHERE rowid >= $before GROUP BY 1", {"before": before}
        ).fetchall()
        return _checked_days(file.path, rows)


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
