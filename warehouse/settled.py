"""A refresh with nothing new, asked again: answered without compiling the KPI files (issue 13).

Whether anything is new (`nothing_new.unchanged_since`) needs the compiled KPI files, and the modules that compute
a refresh: about 1.3 CPU s, nearly all of it imports (pydantic's models, sqlglot, pyarrow with numpy) and the
compiling. The answer does not change while nothing it read changes. So when a refresh finds nothing new, it
records beside the store (`location.settled_path`, JSON) what it printed, with:

- a SHA-256 of everything outside the store it depends on (`inputs_digest`): the KPI files (each YAML file under
  the folder, as `discover_files` finds them), the working folder (the files' names in the findings), and
  KPI Bridge's own files and the versions of sqlglot and DuckDB (a new version checks and counts otherwise);
- the store as it was then (`store_state`): the count and the latest time of every record a load, a Data API
  load, a refresh or `kpi prune` adds or removes;
- the serving copy's own record (`warehouse_info`: the refresh that published it, its time, its KPI files).

A later `kpi refresh` (not `--full`, on DuckDB) whose three are the same, with no refresh stopped half-way,
prints the same and stops: it opens the store read-only and imports DuckDB only (`kpi refresh` 1.3 → 0.5 CPU
s). Anything else, a missing or unreadable record included, is the usual refresh, which records again.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from generator.parse.discovery import discover_files

from .location import serving_path, settled_path
from .pending import marker_path


@dataclass(frozen=True)
class Printed:
    """What a refresh that found nothing new printed: its summary (`RefreshSummary.as_dict`), the summary's
    sentence, and the findings (`Issue.to_dict`)."""

    summary: dict[str, object]
    line: str
    findings: list[dict[str, object]]


_CODE = ("generator", "warehouse", "kpibridge")
_STATE = """
SELECT
  (SELECT count(*) || ' ' || coalesce(max(refreshed_at)::VARCHAR, '') FROM refresh_log),
  (SELECT count(*) || ' ' || coalesce(max(loaded_at)::VARCHAR, '') FROM loaded_days),
  (SELECT count(*) || ' ' || coalesce(max(loaded_at)::VARCHAR, '') FROM ga4_api_reports),
  (SELECT count(*) || ' ' || coalesce(max(refreshed_at)::VARCHAR, '') FROM kpi_refresh_state),
  (SELECT count(*) FROM kpi_values), (SELECT count(*) FROM kpi_period_values),
  (SELECT count(*) FROM event_quality_days), (SELECT count(*) FROM attribution_methods),
  (SELECT count(*) FROM event_spec_versions), (SELECT count(*) FROM observed_days)
"""


def inputs_digest(kpis: Path) -> str:
    """SHA-256 of the KPI files under `kpis`, the working folder, KPI Bridge's files and sqlglot's and DuckDB's
    versions."""
    digest = hashlib.sha256(json.dumps([str(Path.cwd().resolve()), str(kpis.resolve()),
                                        duckdb.__version__]).encode())
    for path in discover_files([kpis]):
        _add(digest, path, kpis)
    repo = Path(__file__).resolve().parent.parent
    for package in _CODE:
        for path in sorted(p for p in (repo / package).rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            _add(digest, path, repo)
    spec = importlib.util.find_spec("sqlglot")  # its version file, without importing it
    if spec is not None and spec.origin:
        _add(digest, Path(spec.origin).with_name("_version.py"), Path(spec.origin).parent)
    return digest.hexdigest()


def _add(digest: hashlib._Hash, path: Path, base: Path) -> None:
    try:
        data = path.read_bytes()
    except OSError:
        data = b"\0missing"
    digest.update(f"\0{path.relative_to(base) if path.is_relative_to(base) else path}\0{len(data)}\0".encode())
    digest.update(data)


def store_state(store: Path) -> list[object] | None:
    """What the store holds, in counts and latest times (None: it cannot be opened read-only, or lacks a table)."""
    try:
        with duckdb.connect(str(store), read_only=True) as con:
            return list(con.execute(_STATE).fetchall()[0])
    except duckdb.Error:
        return None


def serving_state(store: Path) -> list[list[str]] | None:
    """The serving copy's `warehouse_info` (None: no copy, or a refresh stopped before swapping its copy in)."""
    serving = serving_path(store)
    if marker_path(serving).exists() or not serving.exists():
        return None
    try:
        with duckdb.connect(str(serving), read_only=True) as con:
            return [[str(k), str(v)] for k, v in con.execute(
                "SELECT key, value FROM warehouse_info ORDER BY key").fetchall()]
    except duckdb.Error:
        return None


def record_settled(store: Path, kpis: Path, output: Printed) -> None:
    """Record that a refresh with the KPI files `kpis` found nothing new in `store` and printed `output` (written
    under a temporary name, then renamed; a record that cannot be written is only a slower next refresh)."""
    state, serving = store_state(store), serving_state(store)
    if state is None or serving is None:
        return
    record = {"inputs": inputs_digest(kpis), "store": state, "serving": serving,
              "output": {"summary": output.summary, "line": output.line, "findings": output.findings}}
    path = settled_path(store)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        temporary.write_text(json.dumps(record, default=str), encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)


def settled_output(store: Path, kpis: Path) -> Printed | None:
    """What the last refresh printed when it found nothing new, if nothing it read changed since; else None."""
    try:
        record = json.loads(settled_path(store).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    try:
        output = record["output"]
        printed = Printed(dict(output["summary"]), str(output["line"]), [dict(f) for f in output["findings"]])
    except (TypeError, KeyError, ValueError):
        return None
    if record.get("inputs") != inputs_digest(kpis) or record.get("serving") != serving_state(store):
        return None
    state = store_state(store)
    if state is None or json.loads(json.dumps(state, default=str)) != record.get("store"):
        return None
    return printed
