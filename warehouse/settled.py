"""A refresh with nothing new, asked again or after one that computed: answered without compiling (issue 13).

Whether anything is new (`nothing_new.unchanged_since`) needs the compiled KPI files, and the modules that compute
a refresh: about 1.3 CPU s, nearly all of it imports (pydantic's models, sqlglot, pyarrow with numpy) and the
compiling. The answer does not change while nothing it read changes. So when a refresh finds nothing new, it
records beside the store (`location.settled_path`, JSON) what it printed; a refresh that computed records, before
it closes the store, what a refresh with nothing new would print, if nothing is new by then
(`cli_kpis._record_next`). The record holds:

- a SHA-256 of everything outside the store it depends on (`inputs_digest`), taken before the KPI files are
  compiled (a file saved during the refresh is another digest): the KPI files (each YAML file under the folder,
  as `discover_files` finds them), the working folder (the files' names in the findings), the store's path (a
  moved store points its view at its new folder), the `KPIBRIDGE_*` settings, and which KPI Bridge this is
  (`code_version.code_fingerprint`: its files and the installed packages' versions);
- the store as it was then (`store_state`, read on the refresh's own connection, which no load can write past):
  every row of the small tables a load, a Data API load, a refresh or a migration writes (`schema_version`
  included: a newer KPI Bridge may have migrated the store), hashed, and the rows of the large ones counted
  (`kpi prune` removes values);
- the raw files beside it (names and sizes: a store copied without them is refused by the usual refresh);
- the serving copy's own record (`warehouse_info`: the refresh that published it, its time, its KPI files).

A later `kpi refresh` (not `--full`, on DuckDB) whose four are the same, with no refresh stopped half-way,
prints the same and stops: it opens the store read-only and imports DuckDB only (1.5–1.8 → 0.7 CPU s). Anything
else, a missing or unreadable record included, is the usual refresh, which records again. A refresh whose
findings could not be checked (a warning instead) records nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from generator.parse.bounded_read import MAX_FILE_BYTES, read_regular_file
from generator.parse.discovery import discover_files

from .atomic_files import replace_text
from .code_version import add_file, code_fingerprint
from .location import raw_folder, serving_path, settled_path
from .pending import marker_path


@dataclass(frozen=True)
class Printed:
    """What a refresh that found nothing new printed: its summary (`RefreshSummary.as_dict`), the summary's
    sentence, and the findings (`Issue.to_dict`)."""

    summary: dict[str, object]
    line: str
    findings: list[dict[str, object]]


_HASHED = ("schema_version", "refresh_log", "loaded_days", "ga4_api_reports", "kpi_refresh_state",
           "event_quality_days", "attribution_methods", "event_spec_versions", "observed_days", "raw_files",
           "flat_params", "session_fact_days")
_COUNTED = ("kpi_values", "kpi_period_values", "event_quality", "observed_day_values", "user_ids",
            "transaction_first_seen")  # each written by a refresh or a load, which write hashed rows too


def inputs_digest(kpis: Path, store: Path) -> tuple[str, dict[Path, bytes | None]]:
    """SHA-256 of the KPI files under `kpis`, the working folder, the store's path, the `KPIBRIDGE_*` settings,
    KPI Bridge's files and the installed packages' versions; and the bytes of each KPI file it read (None: one it
    could not), which the refresh compiles (`compiled_or_exit(..., sources=)`): a file saved between the two
    reads, or added, would otherwise be computed and recorded under the digest of what it replaced."""
    settings = sorted((k, v) for k, v in os.environ.items() if k.startswith("KPIBRIDGE_"))
    digest = hashlib.sha256(json.dumps([str(Path.cwd().resolve()), str(kpis.resolve()), str(store.resolve()),
                                        settings, code_fingerprint()]).encode())
    sources = {path: add_file(digest, path, kpis, _kpi_file) for path in discover_files([kpis])}
    return digest.hexdigest(), sources


def _kpi_file(path: Path) -> bytes:
    """A KPI file's bytes as the loader reads them: a regular file of at most its limit, else `OSError` (the
    compile then reads it from the disk, and says what is wrong with it as it always does)."""
    return read_regular_file(path, MAX_FILE_BYTES)


def store_state(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every row of the store's small tables hashed, the rows of the large ones counted (`duckdb.Error` where a
    table is missing: a store of another version)."""
    parts = [f"(SELECT count(*) || ' ' || coalesce(bit_xor(hash(t))::VARCHAR, '') FROM {table} t)" for table in _HASHED]
    parts += [f"(SELECT count(*)::VARCHAR FROM {table})" for table in _COUNTED]
    return [str(v) for v in con.execute("SELECT " + ", ".join(parts)).fetchall()[0]]


def raw_listing(store: Path) -> list[list[object]]:
    """The raw files beside the store: each one's name and size."""
    folder = raw_folder(store)
    try:
        return sorted([entry.name, entry.stat().st_size] for entry in os.scandir(folder) if entry.is_file())
    except OSError:
        return []


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


def record_settled(con: duckdb.DuckDBPyConnection, store: Path, inputs: str, output: Printed) -> None:
    """Record that a refresh found nothing new in `store` (`con`: its open connection), its inputs' digest taken
    before it compiled them, and printed `output` (written under a temporary name, then renamed; a record that
    cannot be made is only a slower next refresh)."""
    serving = serving_state(store)
    try:
        state = store_state(con)
    except duckdb.Error:
        return
    if serving is None:
        return
    record = {"inputs": inputs, "store": state, "raw": raw_listing(store), "serving": serving,
              "output": {"summary": output.summary, "line": output.line, "findings": output.findings}}
    with contextlib.suppress(OSError):
        replace_text(settled_path(store), json.dumps(record, default=str))


def settled_output(store: Path, inputs: str) -> Printed | None:
    """What the last refresh printed when it found nothing new, if nothing it read changed since (`inputs`: the
    digest of the KPI files and the rest, `inputs_digest`); else None."""
    try:
        record = json.loads(settled_path(store).read_text(encoding="utf-8"))
        output = record["output"]
        printed = Printed(dict(output["summary"]), str(output["line"]), [dict(f) for f in output["findings"]])
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if record.get("inputs") != inputs or record.get("serving") != serving_state(store):
        return None
    if json.loads(json.dumps(raw_listing(store))) != record.get("raw"):
        return None
    try:
        with duckdb.connect(str(store), read_only=True) as con:
            state = store_state(con)
    except duckdb.Error:
        return None
    return printed if state == record.get("store") else None
