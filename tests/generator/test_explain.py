"""`kpi explain`: a KPI in plain words, its events, its GA4 requests and its SQL."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from kpibridge.cli import app

runner = CliRunner()


def test_explain_json_has_definition_events_requests_and_sql(repo_root, monkeypatch):
    monkeypatch.chdir(repo_root)
    result = runner.invoke(app, ["explain", "session_conversion_rate", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["definition"].startswith("The sessions with a `purchase` event, divided by all sessions")
    assert [e["event"] for e in data["events"]] == ["purchase"]
    assert data["ga4_api"]["expressible"] and data["ga4_api"]["requests"]
    assert all(r["dimensions"][0] == {"name": "date"} for r in data["ga4_api"]["requests"])
    assert set(data["sql"]) == {"duckdb", "bigquery"}
    assert "$start_date" in data["sql"]["duckdb"] and "_TABLE_SUFFIX" in data["sql"]["bigquery"]


def test_explain_says_why_the_data_api_is_not_used(repo_root, monkeypatch):
    monkeypatch.chdir(repo_root)
    result = runner.invoke(app, ["explain", "cart_to_purchase_1d", "--sql", "bigquery"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "not used" in text and "BigQuery export only" in text
    assert "SQL (bigquery)" in result.stdout and "SQL (duckdb)" not in result.stdout


def test_explain_unknown_kpi_suggests_the_closest(repo_root, monkeypatch):
    monkeypatch.chdir(repo_root)
    result = runner.invoke(app, ["explain", "sesions"])
    assert result.exit_code == 1
    assert "Did you mean `sessions`?" in " ".join(result.output.split())
