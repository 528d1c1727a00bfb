"""Which days a refresh recomputes: new data, the 3-day late-data window, changed definitions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from generator.plan.queries import compile_plan
from generator.rules.validate import validate_paths
from warehouse.refresh_days import KpiState, contiguous_ranges, days_to_refresh

REPO = Path(__file__).resolve().parents[2]
T0 = dt.datetime(2026, 1, 10, 6, 0)


@pytest.fixture(scope="module")
def plan():
    return compile_plan(validate_paths([REPO / "kpis"]).catalog)


def _days(n: int) -> list[str]:
    return [(dt.date(2026, 1, 1) + dt.timedelta(days=i)).strftime("%Y%m%d") for i in range(n)]


def test_first_refresh_computes_every_day(plan):
    loaded = {d: T0 for d in _days(9)}
    todo = days_to_refresh(plan, loaded, {})
    assert all(days == _days(9) for days in todo.values())


def test_unchanged_kpis_recompute_new_days_and_the_late_data_window(plan):
    loaded = {d: T0 for d in _days(9)} | {"20260110": T0 + dt.timedelta(days=1)}
    state = {q.kpi_id: KpiState(q.definition_hash, T0 + dt.timedelta(hours=1)) for q in plan.ordered()}
    todo = days_to_refresh(plan, loaded, state)
    assert todo["sessions"] == ["20260108", "20260109", "20260110"]
    # a 1-day conversion also recomputes the day before each recomputed day
    assert todo["cart_to_purchase_1d"] == ["20260107", "20260108", "20260109", "20260110"]


def test_a_changed_definition_recomputes_all_its_days_and_its_dependants(plan):
    loaded = {d: T0 for d in _days(9)}
    state = {q.kpi_id: KpiState(q.definition_hash, T0 + dt.timedelta(hours=1)) for q in plan.ordered()}
    state["revenue"] = KpiState("an-older-definition", T0)
    todo = days_to_refresh(plan, loaded, state)
    assert todo["revenue"] == _days(9)
    assert todo["revenue_per_new_user"] == _days(9)
    assert todo["sessions"] == _days(9)[-3:]


def test_full_refresh_and_empty_store(plan):
    loaded = {d: T0 for d in _days(5)}
    state = {q.kpi_id: KpiState(q.definition_hash, T0 + dt.timedelta(hours=1)) for q in plan.ordered()}
    assert all(v == _days(5) for v in days_to_refresh(plan, loaded, state, full=True).values())
    assert all(v == [] for v in days_to_refresh(plan, {}, {}).values())


def test_contiguous_ranges():
    assert contiguous_ranges(["20260105", "20260101", "20260102", "20260131", "20260201"]) == [
        ("20260101", "20260102"), ("20260105", "20260105"), ("20260131", "20260201")]
    assert contiguous_ranges([]) == []
