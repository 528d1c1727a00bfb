"""The SQL texts every store on the machine shares (`warehouse/text_cache.py`, issue 13): a new store's first
refresh takes them from the shared folder instead of building them; a file that does not match its digest, a
folder that cannot be written, or none at all, and the text is built as before, with the same values."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest
from kpi_runs import kpi, rows

from warehouse.text_cache import CACHE_ENV, FOLDER, shared_text, texts_folder

VALUES = "SELECT kpi_id, date, breakdown, breakdown_value, value FROM kpi_values ORDER BY ALL"
PERIODS = "SELECT kpi_id, grain, period_start, period_end, breakdown, breakdown_value, value FROM kpi_period_values ORDER BY ALL"
HEADER = "-- kpibridge sql text sha256="


def new_store(path: Path) -> Path:
    kpi("load", "demo", "--events", "3000", "--days", "8", "--end-date", "2024-05-10", "--db", path)
    kpi("refresh", "--db", path)
    return path


def texts(db: Path) -> dict[str, str]:
    return dict(rows(db, "SELECT key, sql FROM sql_texts"))


def files(folder: Path) -> dict[str, str]:
    return {p.stem: p.read_text() for p in folder.glob("*.sql")}


def written(text: str) -> str:
    """A file as the shared folder holds it: the digest of the text, then the text."""
    return f"{HEADER}{hashlib.sha256(text.encode()).hexdigest()}\n{text}"


@pytest.fixture
def shared(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache" / FOLDER


def test_a_new_store_takes_its_texts_from_the_shared_folder(tmp_path, shared):
    first = new_store(tmp_path / "a.duckdb")
    kept = texts(first)
    assert len(kept) >= 4 and files(shared) == {k: written(sql) for k, sql in kept.items()}
    # a text the next store can only have read from its file: the plan's day statement with a comment added
    key = next(k for k, sql in kept.items() if "$period_ranges" not in sql and "kpi_id" in sql)
    marked = kept[key] + "\n-- taken from the shared folder"
    (shared / f"{key}.sql").write_text(written(marked))
    second = new_store(tmp_path / "b.duckdb")
    assert texts(second) == {**kept, key: marked}  # every other text read from its file, as built the first time
    assert set(files(shared)) == set(kept)  # nothing new built
    assert rows(second, VALUES) == rows(first, VALUES) and rows(second, PERIODS) == rows(first, PERIODS)


def test_a_file_that_does_not_match_its_digest_is_built_again_and_written_anew(tmp_path, shared):
    kept = texts(new_store(tmp_path / "a.duckdb"))
    key = sorted(kept)[0]
    (shared / f"{key}.sql").write_text(written(kept[key])[:-40])  # cut short: the digest no longer matches
    again = new_store(tmp_path / "b.duckdb")
    assert texts(again) == kept
    assert (shared / f"{key}.sql").read_text() == written(kept[key])


def test_without_a_shared_folder_every_store_builds_its_texts(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, "")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert texts_folder() is None
    first, second = new_store(tmp_path / "a.duckdb"), new_store(tmp_path / "b.duckdb")
    assert texts(first) == texts(second) and len(texts(first)) >= 4
    assert rows(first, VALUES) == rows(second, VALUES)
    assert not (tmp_path / "home").exists() and not (tmp_path / "xdg").exists()


def test_a_folder_that_cannot_be_written_is_the_same_as_none(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv(CACHE_ENV, str(blocker))
    db = new_store(tmp_path / "a.duckdb")
    assert len(texts(db)) >= 4 and rows(db, VALUES)
    assert blocker.read_text() == "a file where the cache folder would be"


def test_the_default_folder_is_the_users_cache(tmp_path, monkeypatch):
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert texts_folder() == tmp_path / "xdg" / "kpibridge" / FOLDER
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert texts_folder() == tmp_path / "home" / ".cache" / "kpibridge" / FOLDER


def test_files_unused_for_the_keeping_time_are_deleted_when_a_text_is_written(shared):
    day = 24 * 3600
    assert shared_text("old", lambda: "SELECT 1", 30 * day) == "SELECT 1"
    assert shared_text("recent", lambda: "SELECT 2", 30 * day) == "SELECT 2"
    os.utime(shared / "old.sql", (time.time() - 31 * day,) * 2)
    os.utime(shared / "recent.sql", (time.time() - 29 * day,) * 2)
    assert shared_text("recent", lambda: "never built", 30 * day) == "SELECT 2"  # read, and touched
    assert (shared / "recent.sql").stat().st_mtime > time.time() - day
    assert shared_text("new", lambda: "SELECT 3", 30 * day) == "SELECT 3"
    assert sorted(p.name for p in shared.iterdir()) == ["new.sql", "recent.sql"]
