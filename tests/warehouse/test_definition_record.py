"""What a refresh records of the KPI definitions it computed with (`refresh._write`, `history.with_history`,
`serving.publish_serving`): each KPI's hash in `kpi_refresh_state`, a row in `kpi_definition_changes` for each
hash a KPI had when it was computed (the KPI page marks a definition change on its trend from them), the
definition itself in `kpi_definition_snapshots`, and the serving copy's record of the refresh (`warehouse_info`).
All of them are written in one statement each since stop 52, not one per KPI: these tests hold them to what the
KPI files say, one by one.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from kpi_runs import kpi, rows

from generator.cli.compile_or_exit import compiled_or_exit
from warehouse.clock import utc_now
from warehouse.location import serving_path

REPO = Path(__file__).resolve().parents[2]
END = date(2026, 3, 31)
CHANGED = "email_sign_ups"


@pytest.fixture
def refreshed(tmp_path: Path) -> tuple[Path, Path, dict[str, str], date]:
    """(KPI folder, store, each KPI's definition hash, the UTC day before the refresh): the example KPIs over 5 demo
    days, refreshed once."""
    kpis = tmp_path / "kpis"
    shutil.copytree(REPO / "kpis", kpis)
    store = tmp_path / "warehouse.duckdb"
    kpi("load", "demo", "--events", 1_500, "--days", 5, "--seed", 7, "--end-date", END, "--db", store)
    before = utc_now().date()
    kpi("refresh", "--db", store, "--kpis", kpis)
    return kpis, store, hashes(kpis), before


def hashes(kpis: Path) -> dict[str, str]:
    plan = compiled_or_exit(kpis, "Nothing was computed").plan
    return {q.kpi_id: q.definition_hash for q in plan.ordered()}


def changes(store: Path) -> set[tuple[str, str]]:
    return {(k, h) for k, h in rows(store, "SELECT kpi_id, definition_hash FROM kpi_definition_changes")}


def test_a_first_refresh_records_every_kpi_once(refreshed):
    kpis, store, first, before = refreshed
    assert dict(rows(store, "SELECT kpi_id, definition_hash FROM kpi_refresh_state WHERE source = 'ga4_export'")) == first
    assert changes(store) == set(first.items())
    days = {d for (d,) in rows(store, "SELECT DISTINCT effective_from FROM kpi_definition_changes")}
    assert len(days) == 1 and before <= days.pop() <= utc_now().date()  # the refresh's UTC day
    snapshots = dict(rows(store, "SELECT kpi_id, definition FROM kpi_definition_snapshots"))
    assert set(snapshots) == set(first)
    assert all(json.loads(text)["kpi_id"] == kpi_id for kpi_id, text in snapshots.items())
    info = dict(rows(serving_path(store), "SELECT key, value FROM warehouse_info"))
    assert info["store"] == str(store)
    assert (info["data_start"], info["data_end"]) == ("2026-03-27", "2026-03-31")
    assert info["refresh_id"] and info["refreshed_at"] and info["contract_version"]


def test_a_changed_definition_adds_its_hash_and_nothing_else_does(refreshed):
    kpis, store, first, _ = refreshed
    kpi("refresh", "--db", store, "--kpis", kpis, "--full")  # the same files again: nothing to record
    assert changes(store) == set(first.items())
    leads = kpis / "leads" / f"{CHANGED}.yaml"
    text = leads.read_text()
    leads.write_text(text.replace("{param: method, equals: email}", "{param: method, equals: phone}"))
    try:
        second = hashes(kpis)
        assert second[CHANGED] != first[CHANGED]
        assert {k: h for k, h in second.items() if k != CHANGED} == {k: h for k, h in first.items() if k != CHANGED}
        kpi("refresh", "--db", store, "--kpis", kpis)
        assert changes(store) == set(first.items()) | {(CHANGED, second[CHANGED])}
        state = dict(rows(store, "SELECT kpi_id, definition_hash FROM kpi_refresh_state WHERE source = 'ga4_export'"))
        assert state == second
        (snapshot,) = rows(store, f"SELECT definition FROM kpi_definition_snapshots WHERE kpi_id = '{CHANGED}'")[0]
        assert "phone" in snapshot
    finally:
        leads.write_text(text)
    kpi("refresh", "--db", store, "--kpis", kpis)  # back to the first definition: its hash is recorded already
    assert changes(store) == set(first.items()) | {(CHANGED, second[CHANGED])}
    assert dict(rows(store, "SELECT kpi_id, definition_hash FROM kpi_refresh_state WHERE source = 'ga4_export'")) == first
