"""Which KPI Bridge this is: one SHA-256 of its own files and of the installed packages' versions.

What the warehouse keeps between commands is only right for the code that made it: the refresh's SQL texts
(`sql_texts.py`, `text_cache.py`) and the record of a refresh that found nothing new (`settled.py`) are keyed by
this. It covers every file of `generator/` (which builds the statements, with its YAML catalogs), `warehouse/` and
`kpibridge/`, but not a tool's cache (`__pycache__`, `.ruff_cache`, …), and the `*.dist-info` names (package and
version) beside DuckDB, pydantic and sqlglot: a new sqlglot writes other SQL, a new DuckDB reads otherwise. Read
without importing any of them (0.02 CPU s).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
from collections.abc import Callable
from pathlib import Path

_CODE = ("generator", "warehouse", "kpibridge")
_PACKAGES = ("duckdb", "pydantic", "sqlglot")  # the folders holding the installed packages, found through these


@functools.cache
def code_fingerprint() -> str:
    """SHA-256 of KPI Bridge's files and the installed packages' names and versions."""
    digest = hashlib.sha256("\n".join(_installed()).encode())
    repo = Path(__file__).resolve().parent.parent
    for package in _CODE:
        for path in sorted(p for p in (repo / package).rglob("*") if p.is_file() and _code(p.relative_to(repo))):
            add_file(digest, path, repo)
    return digest.hexdigest()


def add_file(digest: hashlib._Hash, path: Path, base: Path,
             read: Callable[[Path], bytes] = Path.read_bytes) -> bytes | None:
    """Add a file's name (relative to `base`), size and bytes (`read`) to `digest` (a file that cannot be read, as
    such); returns the bytes added, None for such a file."""
    try:
        data: bytes | None = read(path)
    except OSError:
        data = None
    hashed = b"\0missing" if data is None else data
    digest.update(f"\0{path.relative_to(base) if path.is_relative_to(base) else path}\0{len(hashed)}\0".encode())
    digest.update(hashed)
    return data


def _code(path: Path) -> bool:
    """Not a tool's cache (`__pycache__`, `.ruff_cache`, `.mypy_cache`, …): running ruff is no new version."""
    return not any(part == "__pycache__" or part.startswith(".") for part in path.parts)


def _installed() -> list[str]:
    """The `*.dist-info` folders (name and version) beside the packages, without importing them."""
    folders = set()
    for name in _PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            folders.add(Path(spec.origin).resolve().parent.parent)
    return sorted(f"{folder}/{entry}" for folder in folders for entry in _entries(folder) if entry.endswith(".dist-info"))


def _entries(folder: Path) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []
