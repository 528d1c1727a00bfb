"""A fast `kpi`: `kpi --help` and `kpi validate` import none of the heavy libraries, and `kpi --version`.

Each command imports what it works with in its body (kpibridge/cli.py); these tests run the real command in a
fresh interpreter with `-X importtime`, which lists every module imported, and fail on any that `kpi validate`
has no use for. Timings are measured by hand (issue 11's closing note), never asserted here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

HEAVY = ("streamlit", "duckdb", "pandas", "pyarrow", "numpy", "altair", "google.analytics", "google.cloud",
         "google.api_core", "grpc")
"""Libraries only the commands that load, compute, serve or talk to Google need."""


def imported_modules(*args: str, cwd: Path | None = None) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run `python -X importtime -m kpibridge ARGS`; its result and every module the interpreter imported."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "kpibridge", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=120)
    modules = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines()
               if line.startswith("import time:") and line.count("|") == 2}
    assert "kpibridge.cli" in modules, done.stderr[-2000:]  # the listing is real: it has the CLI itself
    return done, modules


def heavy_in(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_kpi_validate_imports_no_heavy_library(example_kpis_dir: Path) -> None:
    done, modules = imported_modules("validate", str(example_kpis_dir))
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    assert "files checked: no problems" in done.stdout, done.stdout
    assert "generator.rules" in modules  # it did validate
    assert heavy_in(modules) == []


def test_kpi_validate_json_imports_no_heavy_library(example_kpis_dir: Path) -> None:
    done, modules = imported_modules("validate", str(example_kpis_dir), "--format", "json")
    assert done.returncode == 0 and done.stdout.lstrip().startswith("{"), done.stdout
    assert heavy_in(modules) == []


def test_kpi_help_imports_neither_heavy_libraries_nor_the_kpi_models() -> None:
    done, modules = imported_modules("--help")
    assert done.returncode == 0 and "validate" in done.stdout and "dashboard" in done.stdout, done.stdout
    assert heavy_in(modules) == []
    assert not {"pydantic", "sqlglot", "generator.parse.catalog"} & modules


@pytest.mark.parametrize("command", [["load", "ga4-api", "--help"], ["refresh", "--help"], ["alerts", "--help"],
                                     ["apply", "--help"], ["status", "--help"]])
def test_a_commands_help_imports_no_heavy_library(command: list[str]) -> None:
    done, modules = imported_modules(*command)
    assert done.returncode == 0 and ("--db" in done.stdout or "--kpis" in done.stdout), done.stdout
    assert heavy_in(modules) == []


def test_kpi_version_prints_the_installed_version() -> None:
    done = subprocess.run([sys.executable, "-m", "kpibridge", "--version"], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"kpi (KPI Bridge) {version('kpibridge')}"
    assert version("kpibridge").count(".") >= 1  # a real version number, e.g. 0.1.0


def test_a_load_and_a_refresh_build_arrow_tables_without_importing_pandas(tmp_path: Path, example_kpis_dir: Path) -> None:
    """pyarrow's probe for pandas objects imports pandas (0.24 CPU s) the first time it builds an array from
    Python rows; the commands that write the warehouse skip it (`warehouse.arrow_setup`)."""
    db = str(tmp_path / "w.duckdb")
    done, modules = imported_modules("load", "demo", "--events", "2000", "--days", "3", "--db", db,
                                     "--kpis", str(example_kpis_dir))
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    assert "pyarrow" in modules and "pandas" not in modules
    done, modules = imported_modules("refresh", "--db", db, "--kpis", str(example_kpis_dir), "--format", "json")
    assert done.returncode == 0 and '"kpis"' in done.stdout, done.stdout + done.stderr[-2000:]
    assert "pyarrow.pandas_compat" in modules and "pandas" not in modules  # it did probe, and found none


def test_pandas_stays_usable_after_the_probe_was_skipped() -> None:
    """Whatever imports pandas later (a library, `Table.to_pandas`) gets it, and Arrow takes its objects."""
    script = ("import sys; from warehouse.arrow_setup import skip_pandas_probe; skip_pandas_probe(); "
              "import pyarrow as pa; t = pa.table({'a': [1, 2]}); assert 'pandas' not in sys.modules; "
              "import pandas as pd; assert t.to_pandas()['a'].tolist() == [1, 2]; "
              "assert pa.array(pd.Series(['x'], dtype='category')).type.index_type == pa.int8(); "
              "assert pa.Table.from_pandas(pd.DataFrame({'b': [3.5]})).column('b').to_pylist() == [3.5]; print('ok')")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
