"""Issue 12 §7: retiring a KPI (draft, deprecated, or its file removed) keeps its stored values: hidden from
the overview, on its KPI page, until `kpi prune` deletes them."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from kpibridge.cli import app
from warehouse.serving_contract import serving_path

REPO = Path(__file__).resolve().parents[2]


def read(db: Path, sql: str, params: dict | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or {}).fetchall()


def count(db: Path, kpi: str) -> int:
    return read(db, "SELECT count(*) FROM kpi_values WHERE kpi_id = $k", {"k": kpi})[0][0]


@pytest.fixture
def project(tmp_path: Path):
    kpis = tmp_path / "kpis"
    shutil.copytree(REPO / "kpis", kpis)
    db = tmp_path / "warehouse.duckdb"
    runner = CliRunner()

    def kpi(*args: str | Path):
        result = runner.invoke(app, [str(a) for a in args])
        return result

    loaded = kpi("load", "demo", "--db", db, "--events", "3000", "--days", "5", "--seed", "2",
                 "--end-date", "2024-03-31")
    assert loaded.exit_code == 0, loaded.output
    assert kpi("refresh", "--db", db, "--kpis", kpis).exit_code == 0
    return kpis, db, kpi


def test_draft_deprecated_and_removed_kpis_keep_their_values_until_pruned(project) -> None:
    kpis, db, kpi = project
    before = {k: count(db, k) for k in ("leads", "sessions", "revenue_per_new_user")}
    assert all(before.values())
    stored = read(db, "SELECT * EXCLUDE (computed_at) FROM kpi_values WHERE kpi_id = 'leads' ORDER BY ALL")
    leads = next(kpis.rglob("leads.yaml"))
    leads.write_text(leads.read_text().replace("version: 1\n", "version: 1\nstatus: draft\n", 1))
    sessions = next(kpis.rglob("sessions.yaml"))
    sessions.write_text(sessions.read_text().replace("version: 1\n", "version: 1\nstatus: deprecated\n", 1))
    next(kpis.rglob("revenue_per_new_user.yaml")).unlink()
    result = kpi("refresh", "--db", db, "--kpis", kpis)
    assert result.exit_code == 0, result.output

    for kid, n in before.items():  # the old code deleted them here
        assert count(db, kid) == n, kid
    assert read(db, "SELECT * EXCLUDE (computed_at) FROM kpi_values WHERE kpi_id = 'leads' ORDER BY ALL") == stored
    serving = serving_path(db)
    statuses = dict(read(serving, "SELECT kpi_id, status FROM kpi_definitions"))
    assert statuses["leads"] == "draft" and statuses["sessions"] == "deprecated"
    assert statuses["revenue_per_new_user"] == "retired"
    for kid, n in before.items():
        assert count(serving, kid) == n, kid  # served, for the KPI page

    listed = kpi("prune", "--db", db, "--kpis", kpis, "--dry-run")
    assert listed.exit_code == 0 and "leads (draft)" in listed.output and "removed from kpis/" in listed.output
    assert count(db, "leads") == before["leads"]
    pruned = kpi("prune", "--db", db, "--kpis", kpis, "--yes")
    assert pruned.exit_code == 0, pruned.output
    for kid in before:
        assert count(db, kid) == 0 and count(serving, kid) == 0
    assert count(db, "revenue") > 0  # active KPIs untouched
    assert set(dict(read(serving, "SELECT kpi_id, status FROM kpi_definitions")).values()) == {"active"}


def test_retired_kpis_are_not_on_the_overview_but_have_their_page(project, monkeypatch) -> None:
    from streamlit.testing.v1 import AppTest

    from dashboards.data import SERVING_ENV

    kpis, db, kpi = project
    leads = next(kpis.rglob("leads.yaml"))
    leads.write_text(leads.read_text().replace("version: 1\n", "version: 1\nstatus: deprecated\n", 1))
    assert kpi("refresh", "--db", db, "--kpis", kpis).exit_code == 0
    monkeypatch.setenv(SERVING_ENV, str(serving_path(db)))
    at = AppTest.from_file(str(REPO / "dashboards" / "streamlit_app.py"), default_timeout=60)
    at.query_params["period"] = "custom"
    at.query_params["from"] = "2024-03-27"
    at.query_params["to"] = "2024-03-31"
    at.run()
    assert not at.exception
    assert not any(m.label.endswith("Leads") for m in at.metric)
    at.query_params["kpi"] = "leads"
    at.switch_page("app_pages/kpi.py").run()
    assert not at.exception
    assert at.title[0].value == "Leads"
    assert "Status: **deprecated**" in at.markdown[0].value
    assert at.metric[0].value not in ("—", "", None)

