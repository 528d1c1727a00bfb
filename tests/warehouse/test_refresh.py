"""`kpi refresh` over the store: idempotent, incremental, atomic, with one batch statement per group of KPIs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from generator.plan.queries import ConversionQuery, compile_plan
from generator.rules.validate import validate_paths
from warehouse import refresh as refresh_module
from warehouse.connection import connect_store
from warehouse.location import copy_store
from warehouse.refresh import batches, refresh_kpis
from warehouse.refresh_days import contiguous_ranges
from warehouse.serving import publish_serving, serving_path
from warehouse.sources.demo import iter_demo_days
from warehouse.store import insert_events, run_load

REPO = Path(__file__).resolve().parents[2]
DAYS = 10
DEMO = {"events": 11_000, "days": DAYS + 1, "seed": 5, "end_date": date(2024, 2, 29)}
VALUES_SQL = "SELECT * FROM kpi_values ORDER BY ALL"
# the values without when they were computed: what two runs that both finish agree on
SAME_SQL = "SELECT * EXCLUDE (computed_at) FROM kpi_values ORDER BY ALL"


class Days:
    """Some of the demo's days as a load source."""

    source, detail = "demo", "test days"

    def __init__(self, tables: list[tuple[str, object]]) -> None:
        self.tables = dict(tables)

    def plan(self, con: object) -> list[list[str]]:
        return [[day] for day in self.tables]

    def insert(self, con: duckdb.DuckDBPyConnection, batch: list[str]) -> None:
        for day in batch:
            insert_events(con, self.tables[day])  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def demo_days() -> list[tuple[str, object]]:
    return list(iter_demo_days(**DEMO))


@pytest.fixture(scope="module")
def compiled():
    result = validate_paths([REPO / "kpis"])
    assert not result.report.errors
    return result.catalog, compile_plan(result.catalog)


def load(db: Path, tables: list[tuple[str, object]]) -> None:
    con = connect_store(db)
    try:
        run_load(con, Days(tables))  # type: ignore[arg-type]
    finally:
        con.close()


def refresh(db: Path, compiled, **kwargs):
    catalog, plan = compiled
    con = connect_store(db)
    try:
        summary = refresh_kpis(con, catalog, plan, **kwargs)
        publish_serving(con, db, catalog, plan)
        return summary
    finally:
        con.close()


def read(db: Path, sql: str = VALUES_SQL) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture
def refreshed(tmp_path: Path, demo_days, compiled) -> Path:
    """A store with the first DAYS demo days, refreshed once."""
    db = tmp_path / "store" / "warehouse.duckdb"
    load(db, demo_days[:DAYS])
    refresh(db, compiled)
    return db


def test_refreshing_twice_gives_identical_tables(refreshed: Path, compiled) -> None:
    before = read(refreshed), read(refreshed, "SELECT * FROM event_quality ORDER BY ALL")
    assert before[0] and before[1]
    summary = refresh(refreshed, compiled)
    assert summary.days == 4  # the late-data window (and the day before, for a 1-day conversion), same values
    assert (read(refreshed), read(refreshed, "SELECT * FROM event_quality ORDER BY ALL")) == before  # computed_at kept
    refresh(refreshed, compiled, full=True)
    assert read(refreshed) == before[0]


def test_a_new_day_recomputes_it_and_the_late_data_window_only(refreshed: Path, demo_days, compiled) -> None:
    _, plan = compiled
    days = [d for d, _ in demo_days]
    before = read(refreshed)
    load(refreshed, demo_days[DAYS:])
    summary = refresh(refreshed, compiled)
    window = set(days[DAYS - 2:])  # the new day and the two before it: the last 3 days of data
    expected = {kid: 4 if isinstance(q, ConversionQuery) else 3 for kid, q in plan.kpis.items()}  # a 1-day window
    assert summary.recomputed == expected
    untouched = [r for r in before if r[1].strftime("%Y%m%d") < days[DAYS - 3]]
    after = read(refreshed)
    assert set(untouched) <= set(after)  # values (and computed_at) of the older days as they were
    assert {r[1].strftime("%Y%m%d") for r in after} == set(days)
    assert {r[1].strftime("%Y%m%d") for r in set(after) - set(before)} <= window | {days[DAYS - 3]}


def test_kpis_with_the_same_days_run_as_one_batch_per_day_range(compiled) -> None:
    _, plan = compiled
    kids = list(plan.kpis)
    todo = {kid: ["20240101", "20240102", "20240105"] for kid in kids}
    todo[kids[0]] = ["20240101"]
    todo[kids[1]] = []
    groups = batches(plan, todo)
    assert groups == [([kids[0]], [("20240101", "20240101")]),
                      (kids[2:], [("20240101", "20240102"), ("20240105", "20240105")])]


def test_a_group_joins_a_wider_one_that_adds_few_days(compiled) -> None:
    """After a new day: the late-data window (3 days) and a conversion reaching one day further back (4 days)
    are one statement, one scan; a KPI recomputing every day (a changed definition) is not joined by the rest."""
    _, plan = compiled
    kids = list(plan.kpis)
    late = ["20240103", "20240104", "20240105"]
    todo = {kid: late for kid in kids}
    todo[kids[1]] = ["20240102", *late]
    assert batches(plan, todo) == [(kids, [("20240102", "20240105")])]
    todo[kids[1]] = [f"202401{d:02}" for d in range(1, 32)]
    assert batches(plan, todo) == [([kids[0], *kids[2:]], [("20240103", "20240105")]),
                                   ([kids[1]], [("20240101", "20240131")])]


def test_progress_reports_every_kpi_and_day_range(tmp_path: Path, demo_days, compiled) -> None:
    catalog, plan = compiled
    db = tmp_path / "warehouse.duckdb"
    load(db, demo_days[:4] + demo_days[6:8])  # two day ranges
    calls: list[tuple[str, int, int]] = []
    con = connect_store(db)
    try:
        refresh_kpis(con, catalog, plan, progress=lambda what, done, total: calls.append((what, done, total)))
    finally:
        con.close()
    total = len(plan.kpis) * 2
    assert {c[2] for c in calls} == {total} and calls[-1][1] == total
    finished = [c[0] for c in calls if c[0] in plan.kpis]
    assert sorted(finished) == sorted(list(plan.kpis) * 2)
    assert [c[1] for c in calls] == sorted(c[1] for c in calls)


def test_a_failure_while_writing_leaves_the_previous_state(refreshed: Path, demo_days, compiled, monkeypatch) -> None:
    before = read(refreshed), read(refreshed, "SELECT * FROM kpi_refresh_state ORDER BY ALL")
    load(refreshed, demo_days[DAYS:])
    real_write = refresh_module._write

    def write_then_fail(con, *args, **kwargs):
        real = con.execute
        calls = {"n": 0}

        class Failing:
            def __getattr__(self, name: str):
                return getattr(con, name)

            def execute(self, sql: str, *a, **k):
                calls["n"] += 1
                if calls["n"] == 6:  # inside the transaction, after the old values were deleted
                    raise KeyboardInterrupt("killed")
                return real(sql, *a, **k)

        return real_write(Failing(), *args, **kwargs)

    monkeypatch.setattr(refresh_module, "_write", write_then_fail)
    with pytest.raises(KeyboardInterrupt):
        refresh(refreshed, compiled)
    assert (read(refreshed), read(refreshed, "SELECT * FROM kpi_refresh_state ORDER BY ALL")) == before


def test_killing_a_refresh_at_any_moment_keeps_a_consistent_readable_state(refreshed: Path, demo_days, compiled,
                                                                           tmp_path: Path) -> None:
    """The child is killed (SIGKILL) at moments spread over its run; each time the store holds either the
    previous values or the new ones, and the serving copy opens and has values."""
    previous = read(refreshed, SAME_SQL)
    load(refreshed, demo_days[DAYS:])
    finished = tmp_path / "finished" / "warehouse.duckdb"
    finished.parent.mkdir()
    copy_store(refreshed, finished)
    command = [sys.executable, "-c", "from kpibridge.cli import main; main()", "refresh", "--kpis", str(REPO / "kpis")]
    clock = time.perf_counter()
    subprocess.run([*command, "--db", str(finished)], cwd=REPO, check=True, capture_output=True)
    duration = time.perf_counter() - clock
    complete = read(finished, SAME_SQL)
    assert complete != previous
    outcomes = set()
    for fraction in (0.35, 0.55, 0.7, 0.8, 0.9, 0.97):
        child = subprocess.Popen([*command, "--db", str(refreshed)], cwd=REPO, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(duration * fraction)
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        state = read(refreshed, SAME_SQL)
        assert state in (previous, complete), fraction
        outcomes.add("previous" if state == previous else "complete")
        assert read(serving_path(refreshed), "SELECT count(*) FROM kpi_values")[0][0] > 0
        if state == complete:  # it finished before the kill: start again from the previous state
            break
    assert "previous" in outcomes
    refresh(refreshed, compiled)  # a killed refresh is simply run again
    assert read(refreshed, SAME_SQL) == complete


def test_contiguous_ranges_split_where_a_day_is_missing() -> None:
    assert contiguous_ranges(["20240103", "20240101", "20240102", "20240105"]) == [
        ("20240101", "20240103"), ("20240105", "20240105")]
