"""GA4 export files on disk: find them, check them, and say how to read each in the `ga4_events` shape."""

from __future__ import annotations

import glob
import gzip
import json
import zlib
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ..schema import COLUMNS, REQUIRED_COLUMNS
from ..store import LoadError

PARQUET_SUFFIXES = (".parquet", ".parq", ".pq")
JSON_SUFFIXES = (".json", ".ndjson", ".jsonl", ".json.gz", ".ndjson.gz", ".jsonl.gz")
_EXAMPLE = "events_20240101.parquet or events_20240101.json"


@dataclass(frozen=True)
class ExportFile:
    """One export file and the SELECT list that turns its columns into ours."""

    path: Path
    kind: str  # "parquet" or "json"
    projection: str
    columns: tuple[tuple[str, str], ...] = ()  # the file's own (name, type): files alike are read together

    def reader(self, parameter: str = "path") -> str:
        """The table function reading the file; the path (or a list of alike files) is the parameter."""
        if self.kind == "parquet":
            return f"read_parquet(${parameter})"
        columns = ", ".join(f"{c.name}: '{c.duckdb_type}'" for c in COLUMNS)
        return f"read_json(${parameter}, format = 'newline_delimited', columns = {{{columns}}})"


def find_export_files(spec: str) -> list[Path]:
    """The export files a path, a folder or a glob names, sorted; a clear error if there are none."""
    path = Path(spec).expanduser()
    if path.is_file():
        if _kind(path) is None:
            raise LoadError(f"{path} is not a GA4 export file: expected Parquet or NDJSON, like {_EXAMPLE}.")
        return [path]
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.is_file() and _kind(p))
        if not found:
            raise LoadError(f"The folder {path} holds no GA4 export files (expected files like {_EXAMPLE}).")
        return found
    if glob.has_magic(spec):
        found = sorted(Path(p) for p in glob.glob(str(path), recursive=True) if Path(p).is_file() and _kind(Path(p)))
        if not found:
            raise LoadError(f"No GA4 export files match {spec} (expected files like {_EXAMPLE}).")
        return found
    raise LoadError(f"{spec} does not exist: give a GA4 export file, a folder of them, or a glob like 'exports/events_*.parquet'.")


def inspect_export_file(con: duckdb.DuckDBPyConnection, path: Path) -> ExportFile:
    """Read the file's columns, check the required ones are there, and plan how to select ours."""
    kind = _kind(path)
    assert kind is not None
    if path.stat().st_size == 0:
        raise LoadError(f"{path} is empty (0 bytes): was its export or download cut short? "
                        "Export it again or leave it out.")
    present = _columns(con, path, kind)
    missing = [name for name in REQUIRED_COLUMNS if name not in present]
    if missing:
        raise LoadError(
            f"{path} has no column {missing[0]!r}, which every GA4 export has"
            + (f" (also missing: {', '.join(missing[1:])})" if missing[1:] else "")
            + ": is it a GA4 BigQuery events export (events_YYYYMMDD)?"
        )
    if kind == "json":  # read_json is given our columns and types, so its rows already fit
        return ExportFile(path, kind, ", ".join(c.name for c in COLUMNS))
    return ExportFile(path, kind, _projection(present), tuple(present.items()))


def describe_read_error(file: ExportFile, exc: duckdb.Error) -> str:
    """One sentence naming the file (and the line, for NDJSON) and what is wrong with it."""
    detail = _first_line(exc)
    if file.kind == "json":
        line = _first_bad_json_line(file.path)
        if line is not None and line[0] == 0:
            return f"{file.path} {line[1]}: export or download it again, or leave it out."
        if line is not None:
            return f"{file.path} line {line[0]}: not valid JSON ({line[1]}); fix or remove that line and load again."
    if isinstance(exc, duckdb.ConstraintException):
        return f"{file.path} has rows without a date, time or event name, which GA4 always sends ({detail})."
    if isinstance(exc, duckdb.ConversionException) or file.kind == "json":
        return f"{file.path}: a value does not fit the GA4 export shape ({detail})."
    return f"{file.path} cannot be read as Parquet ({detail}); export it again or leave it out."


def _kind(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(JSON_SUFFIXES):
        return "json"
    return None


def _columns(con: duckdb.DuckDBPyConnection, path: Path, kind: str) -> dict[str, str]:
    reader = "read_parquet($path)" if kind == "parquet" else "read_json($path, format = 'newline_delimited')"
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {reader}", {"path": str(path)}).fetchall()
    except duckdb.Error as exc:
        raise LoadError(describe_read_error(ExportFile(path, kind, ""), exc)) from None
    return {str(name): str(kind_) for name, kind_, *_ in rows}


def _projection(present: dict[str, str]) -> str:
    """Our columns from a file's: as they are, cast (structs cast by field name), or NULL when absent."""
    items = []
    for column in COLUMNS:
        found = present.get(column.name)
        if found is None:
            items.append(f"CAST(NULL AS {column.duckdb_type}) AS {column.name}")
        elif column.name == "event_date" and found == "DATE":
            items.append("strftime(event_date, '%Y%m%d') AS event_date")
        elif _same_type(found, column.duckdb_type):
            items.append(column.name)
        else:
            items.append(f"CAST({column.name} AS {column.duckdb_type}) AS {column.name}")
    return ", ".join(items)


def _same_type(found: str, ours: str) -> bool:
    return found.replace('"', "").replace(" ", "") == ours.replace('"', "").replace(" ", "")


def _first_bad_json_line(path: Path) -> tuple[int, str] | None:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if raw.strip():
                    try:
                        json.loads(raw)
                    except ValueError as exc:
                        return number, str(exc).split(":")[0]
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:  # a download or copy cut short
        return 0, f"is a truncated or damaged gzip file ({_first_line(exc)})"
    except OSError as exc:
        return 0, f"cannot be read ({_first_line(exc)})"
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
