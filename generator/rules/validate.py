"""`validate`: load every file, parse, run every rule; one Report with everything found."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..issues import Report
from ..parse.catalog import KpiCatalog, load_catalog
from . import ALL_RULES, run_rules


@dataclass
class Validated:
    catalog: KpiCatalog
    report: Report


def validate_paths(paths: Iterable[Path], relative_to: Path | None = None,
                   texts: Mapping[Path, bytes] | None = None) -> Validated:
    """Load and check the given files and folders; never raises on bad input.

    `texts`: unsaved contents by path, read instead of the disk (see `load_catalog`)."""
    loaded = load_catalog(paths, relative_to, texts)
    report = Report(files_checked=len(loaded.files))
    report.extend(loaded.issues)
    report.extend(run_rules(ALL_RULES, loaded.catalog))
    return Validated(loaded.catalog, report)
