"""Where the warehouse's files live: the store (`--db`, $KPIBRIDGE_DB, the default) and its serving copy beside it.

Pure path arithmetic (no DuckDB, no compiled KPIs): the warehouse owns its location, the shell's commands and
the dashboard ask here, so no stage imports the shell (kpibridge/) for it.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DB = Path(".kpibridge/warehouse.duckdb")
DB_ENV = "KPIBRIDGE_DB"


def resolve_db(db: Path | None) -> Path:
    """The warehouse path: `--db`, else $KPIBRIDGE_DB, else `.kpibridge/warehouse.duckdb`."""
    if db is not None:
        return db
    env = os.environ.get(DB_ENV)
    return Path(env) if env else DEFAULT_DB


def raw_folder(store: Path) -> Path:
    """`.kpibridge/warehouse.duckdb` → `.kpibridge/warehouse.raw/`: the raw export files the store keeps
    (`warehouse/raw_files.py`)."""
    store = Path(store)
    return store.with_name(f"{store.stem}.raw")


def settled_path(store: Path) -> Path:
    """`.kpibridge/warehouse.duckdb` → `.kpibridge/warehouse.settled.json`: what the last refresh that found nothing
    new printed, and what it read (`warehouse/settled.py`); optional, a store copied without it is only slower."""
    store = Path(store)
    return store.with_name(f"{store.stem}.settled.json")


def copy_store(store: Path, to: Path) -> None:
    """Copy a (closed) store with its raw files to `to` (the copy's first read-write open reads the files beside
    it: `raw_files.view_is_current`)."""
    import shutil

    shutil.copy(store, to)
    if raw_folder(store).is_dir():
        shutil.copytree(raw_folder(store), raw_folder(Path(to)), dirs_exist_ok=True)


def serving_path(store: Path) -> Path:
    """`.kpibridge/warehouse.duckdb` → `.kpibridge/warehouse.serving.duckdb`; `w.db` → `w.serving.db`."""
    store = Path(store)
    return store.with_name(f"{store.stem}.serving{store.suffix or '.duckdb'}")
