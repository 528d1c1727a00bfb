"""Alert thresholds: a KPI's own `alerts:` block over `[alerts]` in kpibridge.toml over the defaults."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import TODAY, kpi

from dashboards.alerts.settings import SettingsError, from_config
from warehouse.location import copy_store

SESSIONS_OWN = """
alerts:
  relative_change: 0.9
"""


@pytest.fixture(scope="module")
def overridden(dropped, tmp_path_factory):
    """The dropped warehouse refreshed with KPI files that tune their alerts."""
    folder = tmp_path_factory.mktemp("overridden")
    shutil.copytree(dropped.kpis, folder / "kpis")
    sessions = folder / "kpis" / "acquisition" / "sessions.yaml"
    sessions.write_text(sessions.read_text(encoding="utf-8") + SESSIONS_OWN, encoding="utf-8")
    revenue = folder / "kpis" / "revenue" / "revenue.yaml"
    revenue.write_text(revenue.read_text(encoding="utf-8") + "alerts: {enabled: false}\n", encoding="utf-8")
    db = folder / "warehouse.duckdb"
    copy_store(dropped.db, db)
    result = kpi("refresh", "--db", db, "--kpis", folder / "kpis")
    assert result.exit_code == 0, result.output
    return db, folder / "kpis"


def conditions(db, kpis) -> set[tuple[str, str]]:
    result = kpi("alerts", "--format", "json", "--db", db, "--kpis", kpis, "--today", TODAY)
    return {(a["kpi"], r["kind"]) for a in json.loads(result.stdout)["alerts"] for r in a["reasons"]}


def test_a_kpis_own_alerts_block_wins(dropped, overridden):
    before = conditions(dropped.db, dropped.kpis)
    after = conditions(*overridden)
    assert ("sessions", "change") in before and ("sessions", "change") not in after  # needs -90 % now
    assert ("sessions", "status") in after  # the status still speaks
    assert any(k == "revenue" for k, _ in before) and not any(k == "revenue" for k, _ in after)  # enabled: false
    assert after == {c for c in before if c[0] != "revenue" and c != ("sessions", "change")}


def test_project_defaults_in_kpibridge_toml(dropped, tmp_path):
    (tmp_path / "kpis").mkdir()
    (tmp_path / "kpibridge.toml").write_text("[alerts]\nrelative_change = 0.95\nmax_violation_rate = 0.5\n",
                                             encoding="utf-8")
    found = conditions(dropped.db, tmp_path / "kpis")
    assert not any(kind == "violation_rate" for _, kind in found)
    # Only a fall to nothing reaches -95 %: the KPI whose event stopped arriving.
    assert {k for k, kind in found if kind == "change"} == {"add_to_cart_rate"}
    assert ("add_to_cart_rate", "event_stopped") in found


def test_a_misspelt_setting_is_an_error_with_a_suggestion(dropped, tmp_path):
    (tmp_path / "kpis").mkdir()
    (tmp_path / "kpibridge.toml").write_text("[alerts]\nrelative_chang = 0.3\n", encoding="utf-8")
    result = kpi("alerts", "--db", dropped.db, "--kpis", tmp_path / "kpis", "--today", TODAY)
    assert result.exit_code == 2
    assert "`[alerts] relative_chang` is not a setting. Did you mean `relative_change`?" in result.stderr


def test_shares_written_as_percentages_are_refused():
    with pytest.raises(SettingsError, match="Did you mean 0.2"):
        from_config({"relative_change": 20})
    settings = from_config({"absolute_change": 10, "percent": {"absolute_change": 0.01}})
    assert settings.for_kpi("number", {}).absolute_change == 10
    assert settings.for_kpi("percent", {}).absolute_change == 0.01
    assert settings.for_kpi("percent", {"alert_absolute_change": 0.02}).absolute_change == 0.02


def test_no_warehouse_yet_says_what_to_run(tmp_path):
    result = kpi("alerts", "--db", tmp_path / "none.duckdb", "--kpis", tmp_path / "kpis")
    assert result.exit_code == 1
    assert "kpi load demo && kpi refresh" in result.stderr
    assert "Traceback" not in result.output


def test_a_state_file_that_is_not_ours_is_refused(dropped, tmp_path):
    state = tmp_path / "state.json"
    state.write_text("[1, 2]", encoding="utf-8")
    result = kpi("alerts", "--db", dropped.db, "--kpis", dropped.kpis, "--today", TODAY, "--state", state)
    assert result.exit_code == 1
    assert "is not a `kpi alerts` state file" in result.stderr
    assert state.read_text(encoding="utf-8") == "[1, 2]"
