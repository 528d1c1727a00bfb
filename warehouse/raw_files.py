"""The raw export kept as its files: a folder beside the store, and `ga4_events`, a view over it.

Copying GA4's nested export into DuckDB's own storage cost a load most of its time (at 5M events 24 of 37.6 CPU s,
`bench/bench_raw_storage.py`), though the KPIs read only a few of its columns. The store now keeps:

- the export's rows as Parquet files in `<store stem>.raw/` (`location.raw_folder`), one or more per day: an
  export file that holds one day is copied byte for byte (the common case: GA4 exports a table per day); any
  other rows (the demo's and the Data API's days, NDJSON, a file of which only some days are kept) are written
  with DuckDB's Parquet writer, one file per day;
- `raw_files`, a row per file: its day, and the SELECT list that reads it in the store's shape (an export file
  of an older era lacks columns, `sources/export_files.py`);
- `ga4_events`, a view over every file in the export's shape, each row with its file and row number (`kb_file`,
  `kb_row`); the spec stamps, the editor's sample values and the tests' recounts read it, data quality the same
  over the files of the days it checks only (`days_view`);
- `slim_events` (`slim_events.py`): what the KPI statements read, as plain columns, each row with the file and
  row it came from, so that a param the KPI files start to read is extracted from the files (a re-extract,
  never a reload).

A load writes its files under new names (a sequence never gives a number twice) inside its transaction, and
names them in `raw_files` in it; the files of the days it replaced are deleted after the commit. A load that
fails leaves only files no row names, which `sweep` deletes (after the rollback, and before the next load).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb
from sqlglot import exp

from .location import raw_folder
from .schema.events import COLUMN_NAMES, COLUMNS

RAW_FILES_DDL = (
    "CREATE SEQUENCE IF NOT EXISTS raw_file_ids START 1",
    """CREATE TABLE IF NOT EXISTS raw_files (
      file_id BIGINT PRIMARY KEY,   -- the file is <store stem>.raw/<file_id>.parquet
      event_date VARCHAR NOT NULL,  -- the one day it holds
      projection VARCHAR NOT NULL,  -- the SELECT list reading it in the store's shape
      origin VARCHAR,               -- the export file it is a byte copy of; NULL when the load wrote it
      load_id BIGINT                -- the load that wrote it (set before the load commits)
    )""",
)

FILE, ROW = "kb_file", "kb_row"
"""The columns numbering each raw event: its file's id and its row in the file (from 0)."""

IDENTITY = ", ".join(COLUMN_NAMES)
"""The projection of a file the load wrote: it holds the store's columns."""

_SUFFIX = ".parquet"


def store_path(con: duckdb.DuckDBPyConnection) -> Path:
    """The file of the store `con` has open."""
    (path,) = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()[0]
    return Path(str(path))


def folder(con: duckdb.DuckDBPyConnection) -> Path:
    """The folder of the raw files of the store `con` has open."""
    return raw_folder(store_path(con).resolve())


def file_path(base: Path, file_id: int) -> Path:
    return base / f"{file_id}{_SUFFIX}"


def _new_file(con: duckdb.DuckDBPyConnection, day: str, projection: str, origin: str | None) -> tuple[int, Path]:
    (file_id,) = con.execute("SELECT nextval('raw_file_ids')").fetchall()[0]
    base = folder(con)
    base.mkdir(parents=True, exist_ok=True)
    con.execute("INSERT INTO raw_files VALUES ($id, $day, $projection, $origin, NULL)",
                {"id": file_id, "day": day, "projection": projection, "origin": origin})
    return int(file_id), file_path(base, int(file_id))


def keep_copy(con: duckdb.DuckDBPyConnection, source: Path, day: str, projection: str) -> int:
    """Copy the export file `source`, which holds the one day `day`, byte for byte; returns its file id."""
    file_id, target = _new_file(con, day, projection, str(source))
    shutil.copyfile(source, target)
    return file_id


def write_days(con: duckdb.DuckDBPyConnection, rows: duckdb.DuckDBPyRelation, days: Iterable[str]) -> list[int]:
    """Write the rows of each day of `days` (in the store's columns) to a file of its own; returns their ids."""
    ids = []
    for day in days:
        file_id, target = _new_file(con, day, IDENTITY, None)
        one_day = rows.filter(duckdb.ColumnExpression("event_date") == duckdb.ConstantExpression(day))
        one_day.select(*COLUMN_NAMES).write_parquet(str(target), compression="zstd")
        ids.append(file_id)
    return ids


def name_load(con: duckdb.DuckDBPyConnection, load_id: int) -> None:
    """Set the load id of the files the load in progress wrote (in its transaction)."""
    con.execute("UPDATE raw_files SET load_id = $id WHERE load_id IS NULL", {"id": load_id})


def drop_days(con: duckdb.DuckDBPyConnection, days: Sequence[str]) -> list[Path]:
    """Forget the files of `days` (in the caller's transaction); returns them, to delete after it commits."""
    rows = con.execute("DELETE FROM raw_files WHERE list_contains($days, event_date) RETURNING file_id",
                       {"days": list(days)}).fetchall()
    base = folder(con)
    return [file_path(base, int(file_id)) for (file_id,) in rows]


def delete(paths: Iterable[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def sweep(con: duckdb.DuckDBPyConnection) -> None:
    """Delete the files in the folder that no committed `raw_files` row names (those of a load that failed)."""
    base = folder(con)
    if not base.is_dir():
        return
    named = {int(i) for (i,) in con.execute("SELECT file_id FROM raw_files").fetchall()}
    for path in base.iterdir():
        if path.suffix == _SUFFIX and path.stem.isdigit() and int(path.stem) not in named:
            path.unlink(missing_ok=True)


def files_sql(con: duckdb.DuckDBPyConnection, ids: Sequence[int] | None = None) -> str:
    """A SELECT of the rows of the files `ids` (every file when None) in the export's shape, each with its
    `kb_file` and `kb_row`: one read of each group of files read alike, `UNION ALL`."""
    groups = con.execute(
        "SELECT projection, list(file_id ORDER BY file_id) FROM raw_files "
        "WHERE $ids IS NULL OR list_contains($ids, file_id) GROUP BY projection ORDER BY min(file_id)",
        {"ids": None if ids is None else list(ids)}).fetchall()
    if not groups:
        return _empty()
    base = folder(con)
    parts = []
    for projection, file_ids in groups:
        paths = exp.Array(expressions=[exp.Literal.string(str(file_path(base, int(i)))) for i in file_ids])
        parts.append(f"SELECT {projection}, CAST(parse_filename(filename, true) AS BIGINT) AS {FILE}, "
                     f"file_row_number AS {ROW} FROM read_parquet({paths.sql('duckdb')}, filename = true, "
                     "file_row_number = true)")
    return "\nUNION ALL\n".join(parts)


@contextmanager
def days_view(con: duckdb.DuckDBPyConnection, name: str, start_date: str, end_date: str) -> Iterator[None]:
    """A temporary view `name` in the shape of `ga4_events` over the files of the YYYYMMDD days `start_date` …
    `end_date` only (a file holds one day). A reader of a few days opens their files alone: through the view over
    every file, DuckDB reads each file's footer to find its days (one day of 182 read 0.080 CPU s that way, 0.015
    from its own file)."""
    ids = [int(i) for (i,) in con.execute("SELECT file_id FROM raw_files WHERE event_date BETWEEN $s AND $e",
                                          {"s": start_date, "e": end_date}).fetchall()]
    con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS " + files_sql(con, ids))
    try:
        yield
    finally:
        # in a transaction a failed statement aborted, the DROP would fail too and hide that error; the
        # transaction's ROLLBACK drops the view
        with suppress(duckdb.Error):
            con.execute(f"DROP VIEW IF EXISTS {name}")


def _empty() -> str:
    typed = [exp.alias_(exp.cast(exp.null(), exp.DataType.build(c.duckdb_type, dialect="duckdb")), c.name)
             for c in COLUMNS]
    typed += [exp.alias_(exp.cast(exp.null(), "BIGINT"), name) for name in (FILE, ROW)]
    return exp.select(*typed).where(exp.false()).sql("duckdb")


def refresh_view(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create `ga4_events` over the files `raw_files` names (in the caller's transaction)."""
    con.execute("CREATE OR REPLACE VIEW ga4_events AS " + files_sql(con))


def missing(con: duckdb.DuckDBPyConnection) -> list[Path]:
    """The raw files `raw_files` names that are not in the folder (a store copied without its `.raw` folder)."""
    base = folder(con)
    ids = [int(i) for (i,) in con.execute("SELECT file_id FROM raw_files ORDER BY 1").fetchall()]
    return [file_path(base, i) for i in ids if not file_path(base, i).is_file()]


def view_is_current(con: duckdb.DuckDBPyConnection) -> bool:
    """False when `ga4_events` names the files of another folder (the store was moved or copied)."""
    rows = con.execute("SELECT sql FROM duckdb_views() WHERE database_name = current_database() "
                       "AND view_name = 'ga4_events'").fetchall()
    if not rows:
        return False
    named = con.execute("SELECT count(*) FROM raw_files").fetchall()[0][0]
    return not named or str(folder(con)) in str(rows[0][0])
