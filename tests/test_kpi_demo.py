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


def _kpi(env, *args):
    return subprocess.run([sys.executable, "-m", "kpibridge", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)


def test_demo_through_a_pipe_then_the_commands_say_what_they_found(tmp_path):
    """Issue 14: quiet progress off a terminal, uncut piped tables, messages and exit codes instead of silence."""
    env = {**os.environ, "KPIBRIDGE_DB": str(tmp_path / "wh.duckdb"), "NO_COLOR": "1"}
    demo = _kpi(env, "demo", "--no-serve", "--events", "30000", "--days", "40", "--out", str(tmp_path / "build"))
    assert demo.returncode == 0, demo.stdout + demo.stderr
    progress = [line for line in demo.stderr.splitlines() if line.startswith("loaded ")]
    assert 1 <= len(progress) <= 11, progress  # the first day, then one line per tenth: not 40 lines

    # A breakdown named without its `param:` prefix: a message naming the right one, and exit 1.
    wrong = _kpi(env, "values", "--breakdown", "lead_source")
    assert wrong.returncode == 1 and wrong.stdout == ""
    assert "`param:lead_source`" in " ".join(wrong.stderr.split())
    # Dates outside the data: say which days the warehouse holds.
    early = _kpi(env, "values", "--kpi", "leads", "--from", "2001-01-01", "--to", "2001-01-31")
    assert early.returncode == 1 and "The warehouse holds" in " ".join(early.stderr.split())

    # Piped tables keep every date whole (a terminal-less console used to cut them to "2026-1…").
    table = _kpi(env, "values", "--kpi", "sessions")
    assert table.returncode == 0
    dates = [cell.strip() for line in table.stdout.splitlines() for cell in line.split("│")[1:2]]
    assert dates and all(len(d) == 10 for d in dates if d), dates[:5]
    assert "…" not in table.stdout

    # kpi status: which check failed, and --fail-on error stops a script on a broken event.
    status = _kpi(env, "status", "--format", "json")
    assert status.returncode == 0
    events = {row["event"]: row for row in json.loads(status.stdout)}
    with duckdb.connect(str(tmp_path / "wh.serving.duckdb"), read_only=True) as con:
        checks = dict(con.execute(
            "SELECT event_name, sum(wrong_type) FROM event_quality GROUP BY 1 HAVING sum(wrong_type) > 0").fetchall())
    assert checks, "the demo has events of the wrong type"
    for event, wrong_type in checks.items():
        assert f"wrong type: {wrong_type}" in events[event]["failed_checks"]
    broken = sorted(name for name, row in events.items() if row["status"] in ("broken", "missing")
                    or "name GA4 rejects" in (row["failed_checks"] or ""))  # the one check of level error
    strict = _kpi(env, "status", "--fail-on", "error")
    if broken:
        assert strict.returncode == 1
        for name in broken:
            assert f"{name}: " in strict.stderr
    else:
        assert strict.returncode == 0
    warned = _kpi(env, "status", "--fail-on", "warning", "--format", "csv")
    info = ("cookieless (no user_pseudo_id)",)  # counted, never fails
    fired = [c.split(":")[0] for r in events.values() for c in (r["failed_checks"] or "").split(", ") if c]
    assert warned.returncode == (1 if any(r["status"] != "ok" for r in events.values())
                                 or any(c not in info for c in fired) else 0)
