"""`kpi demo --no-serve`: a fresh folder to computed KPIs, the spec and the queries, in one command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parent.parent


def test_demo_runs_every_step_and_leaves_kpis_to_read(tmp_path):
    db = tmp_path / "wh.duckdb"
    out = tmp_path / "build"
    env = {**os.environ, "KPIBRIDGE_DB": str(db), "NO_COLOR": "1"}
    run = subprocess.run([sys.executable, "-m", "kpibridge", "demo", "--no-serve", "--events", "20000", "--days", "14",
                          "--out", str(out)], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    for step in ("1/5", "2/5", "3/5", "4/5"):
        assert step in run.stdout
    assert "Traceback" not in run.stdout + run.stderr
    assert (out / "spec" / "index.html").is_file()
    assert (out / "queries" / "ga4" / "requests.json").is_file()
    assert (out / "queries" / "sql" / "duckdb" / "revenue.sql").is_file()

    values = subprocess.run([sys.executable, "-m", "kpibridge", "values", "--kpi", "sessions", "--format", "json"],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert values.returncode == 0, values.stderr
    rows = json.loads(values.stdout)
    assert len(rows) == 14
    with duckdb.connect(str(db), read_only=True) as con:
        per_day = dict(con.execute(
            "SELECT strftime(strptime(event_date, '%Y%m%d'), '%Y-%m-%d'), "
            "count(DISTINCT (user_pseudo_id, list_filter(event_params, lambda p: p.key = 'ga_session_id')[1]"
            ".value.int_value)) FROM ga4_events GROUP BY 1").fetchall())
    assert {r["date"]: r["value"] for r in rows} == {d: float(n) for d, n in per_day.items()}
