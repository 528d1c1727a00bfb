"""Which files are KPI files and events catalogs: every YAML file under the given files and folders.

Apart from the loader (`catalog.py`, which imports the models) so that `warehouse/settled.py` can tell whether the
KPI files changed without importing pydantic.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

YAML_SUFFIXES = (".yaml", ".yml")


def discover_files(paths: Iterable[Path]) -> list[Path]:
    """Every YAML file under the given files and folders, sorted, each once."""
    found: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found |= {p for p in path.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file()}
        else:
            found.add(path)
    return sorted(found)
