"""The refresh's SQL texts shared by every store on this machine: a new store's first refresh builds none again.

Each store keeps the texts its refreshes built (`sql_texts.py`), under a key that covers everything a text is
made from (the code, sqlglot's version, the plan, the shape it reads, the statement's arguments). A store made
since, as every `kpi load` into a new file, every `kpi demo` and every test makes one, built them all again on
its load and first refresh: at 5M events 1.6 CPU s (4 % of that refresh), at 200,000 events 1.8 (28 %). The
same key gives the same text in any store, so the texts are also kept as files, one per key, in the user's cache
folder:

- `$KPIBRIDGE_CACHE_DIR` if set (empty: no files at all), else `$XDG_CACHE_HOME/kpibridge`, else
  `~/.cache/kpibridge`; the texts in its `sql-texts/` folder, named `<key>.sql`;
- each file starts with a line holding the SHA-256 of the text after it; a file whose text does not match it
  (cut short, edited) is not used: the text is built again and the file written anew;
- written to a temporary name, then renamed: a reader never sees half a file, two refreshes may write the
  same one at once;
- a file read is touched; files not used for 30 days (`sql_texts.KEEP`) are deleted when a new one is written;
- a folder that cannot be read or written (a read-only home, a full disk) is the same as none: the text is
  built, as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path

from .atomic_files import replace_text

CACHE_ENV = "KPIBRIDGE_CACHE_DIR"
FOLDER = "sql-texts"
_HEADER = "-- kpibridge sql text sha256="


def texts_folder() -> Path | None:
    """Where the shared texts are kept; None when `$KPIBRIDGE_CACHE_DIR` is set empty (no files)."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen is not None:
        return Path(chosen).expanduser() / FOLDER if chosen.strip() else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kpibridge" / FOLDER


def shared_text(key: str, build: Callable[[], str], keep_seconds: float) -> str:
    """The text kept under `key` in the shared folder, or `build()` written there now (files unused for
    `keep_seconds` deleted then)."""
    folder = texts_folder()
    if folder is None:
        return build()
    path = folder / f"{key}.sql"
    found = _read(path)
    if found is not None:
        with contextlib.suppress(OSError):
            os.utime(path)
        return found
    text = build()
    with contextlib.suppress(OSError):
        replace_text(path, f"{_HEADER}{_digest(text)}\n{text}")
        _prune(folder, time.time() - keep_seconds)
    return text


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _read(path: Path) -> str | None:
    try:
        header, _, text = path.read_text(encoding="utf-8").partition("\n")
    except (OSError, UnicodeDecodeError):
        return None
    return text if header == _HEADER + _digest(text) else None


def _prune(folder: Path, before: float) -> None:
    for path in folder.iterdir():
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < before:
                path.unlink()
