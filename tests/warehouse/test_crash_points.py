"""Issue 12 §6: a refresh killed (SIGKILL) at each of its write points in turn leaves the last good state,
says when the serving copy is behind the store, and the next `kpi refresh` brings both up to date.

The kill is `warehouse.pending.kill_point`: with KPIBRIDGE_KILL_AT naming a write point, the refresh
process sends itself SIGKILL there, exactly as `kill -9` would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from generator.plan.queries import compile_plan
from generator.rules.validate import validate_paths
from warehouse.connection import connect_store
from warehouse.pending import KILL_ENV, WRITE_POINTS, marker_path
from warehouse.refresh import refresh_kpis
from warehouse.serving import publish_serving, serving_path
from warehouse.sources.arrow_days import ArrowDaysSource
from warehouse.sources.demo import iter_demo_days
from warehouse.store import run_load

REPO = Path(__file__).resolve().parents[2]
DEMO = {"events": 3_000, "days": 6, "seed": 11, "end_date": date(2024, 3, 31)}
SAME_SQL = "SELECT * EXCLUDE (computed_at) FROM kpi_values ORDER BY ALL"
BEHIND = "Numbers being updated"



def Days(tables):  # noqa: N802 - reads like the load source it returns
    return ArrowDaysSource(tables, "test days")


def read(db: Path, sql: str = SAME_SQL) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def kpi(*args: str | Path, kill_at: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != KILL_ENV}
    env["PYTHONPATH"] = str(REPO)
    if kill_at:
        env[KILL_ENV] = kill_at
    return subprocess.run([sys.executable, "-m", "kpibridge", *map(str, args)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> tuple[Path, list, list, list, list]:
    """A store refreshed over 5 days plus a 6th day loaded, and what a finished refresh then gives."""
    folder = tmp_path_factory.mktemp("crash") / "base"
    db = folder / "warehouse.duckdb"
    days = list(iter_demo_days(**DEMO))
    result = validate_paths([REPO / "kpis"])
    catalog, plan = result.catalog, compile_plan(result.catalog)
    con = connect_store(db)
    try:
        run_load(con, Days(days[:-1]))
        refresh_kpis(con, catalog, plan)
        publish_serving(con, db, catalog, plan)
        run_load(con, Days(days[-1:]))
    finally:
        con.close()
    previous, previous_served = read(db), read(serving_path(db))
    finished = folder.parent / "finished" / "warehouse.duckdb"
    shutil.copytree(folder, finished.parent)
    done = kpi("refresh", "--db", finished, "--kpis", REPO / "kpis")
    assert done.returncode == 0, done.stderr
    complete, complete_served = read(finished), read(serving_path(finished))
    assert complete != previous and complete_served != previous_served
    return db, previous, previous_served, complete, complete_served


@pytest.mark.slow
@pytest.mark.parametrize("point", WRITE_POINTS)
def test_a_refresh_killed_at_each_write_point_keeps_the_last_good_state(baseline, point, tmp_path) -> None:
    base, previous, previous_served, complete, complete_served = baseline
    db = tmp_path / "store" / "warehouse.duckdb"
    shutil.copytree(base.parent, db.parent)
    killed = kpi("refresh", "--db", db, "--kpis", REPO / "kpis", kill_at=point)
    assert killed.returncode == -9, (point, killed.stderr)  # SIGKILL at that point, not an error

    store, served = read(db), read(serving_path(db))
    committed = WRITE_POINTS.index(point) >= WRITE_POINTS.index("store-committed")
    assert store == (complete if committed else previous), point
    swapped = point == "serving-swapped"
    assert served == (complete_served if swapped else previous_served), point

    # every reader says whether the copy is behind the store: `kpi values`, `kpi status`, the dashboard
    values = kpi("values", "--db", db, "--format", "csv")
    assert values.returncode == 0, values.stderr
    assert (BEHIND in values.stderr) == (not swapped), (point, values.stderr)
    assert "kpi refresh" in values.stderr or swapped
    from dashboards.data import warehouse_status

    status = warehouse_status(serving_path(db))
    assert status.ok and bool(status.updating) == (not swapped)

    recovered = kpi("refresh", "--db", db, "--kpis", REPO / "kpis")
    assert recovered.returncode == 0, recovered.stderr
    assert read(db) == complete and read(serving_path(db)) == complete_served
    assert not marker_path(serving_path(db)).exists()
    assert BEHIND not in kpi("values", "--db", db).stderr
