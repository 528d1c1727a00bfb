"""Shared by the BigQuery engine tests: the export's names and the real `kpi` command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
DATASET = "analytics_123"
DEMO = {"events": 6_000, "days": 9, "seed": 7, "end_date": date(2024, 1, 31)}
INTRADAY_ONLY = "20240131"  # the last day has only its intraday table yet
BOTH = "20240130"  # this day has its daily table and a stale intraday one (which must not be read)
ONE_KPI = "sessions"  # the KPI file `one_kpi_project` keeps


def run_kpi(*args: str | Path, env: dict[str, str] | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """The real `kpi` command in a child process (so the client reads the environment as a user's would)."""
    code = "from kpibridge.cli import main; main()"
    full_env = {k: v for k, v in os.environ.items() if k != "BIGQUERY_EMULATOR_HOST"}
    full_env.update({"PYTHONPATH": str(REPO), "COLUMNS": "200", **(env or {})})
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], cwd=cwd, env=full_env, text=True,
                          capture_output=True, timeout=300)


def example_kpis(folder: Path) -> Path:
    """The example KPIs in `folder`, `sessions` with a weekly trend (so its weeks are counted too)."""
    shutil.copytree(REPO / "kpis", folder)
    sessions = folder / "acquisition" / "sessions.yaml"
    sessions.write_text(sessions.read_text() + "time_grain: week\n")
    return folder
