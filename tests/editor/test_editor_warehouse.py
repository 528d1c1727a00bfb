"""With a warehouse loaded, the editor shows the KPI's last 28 days and offers filter values from the data."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
import streamlit as st
from conftest import APP, REPO
from streamlit.testing.v1 import AppTest


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("warehouse") / "warehouse.duckdb"
    subprocess.run([sys.executable, "-c", "from kpibridge.cli import main; main()", "load", "demo", "--events", "6000",
                    "--days", "9", "--seed", "7", "--db", str(path)], check=True, capture_output=True, cwd=REPO,
                   timeout=300)
    return path


@pytest.fixture
def editor_on_data(store: Path, kpis_dir: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    st.cache_data.clear()
    monkeypatch.setenv("KPIBRIDGE_EDIT_KPIS", str(kpis_dir))
    monkeypatch.setenv("KPIBRIDGE_DB", str(store))
    return AppTest.from_file(str(APP), default_timeout=60).run()


def _expected_email_sign_ups(store: Path) -> tuple[int, date, date]:
    """Independently: sign_up events with method = email over the last 28 loaded days (plain SQL)."""
    with duckdb.connect(str(store), read_only=True) as con:
        last = date.fromisoformat(con.execute("SELECT strptime(max(event_date), '%Y%m%d')::DATE::VARCHAR "
                                              "FROM ga4_events").fetchone()[0])
        first = last - timedelta(days=27)
        count = con.execute(
            "SELECT count(*) FROM ga4_events WHERE event_name = 'sign_up' AND event_date BETWEEN $a AND $b "
            "AND list_filter(event_params, lambda p: p.key = 'method')[1].value.string_value = 'email'",
            {"a": first.strftime("%Y%m%d"), "b": last.strftime("%Y%m%d")}).fetchone()[0]
    return count, first, last


def test_value_over_the_last_28_days_and_a_sparkline(editor_on_data: AppTest, store: Path):
    at = editor_on_data.sidebar.button(key="open:email_sign_ups").click().run()
    assert not at.exception
    expected, first, last = _expected_email_sign_ups(store)
    assert expected > 0
    metric = at.metric[0]
    assert metric.label == f"{first:%Y-%m-%d} to {last:%Y-%m-%d}"
    assert any("daily values added up" in c.value for c in at.main.caption)
    assert metric.value == f"{expected:,.2f}"
    spark = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    assert spark["mark"]["type"] == "line" if isinstance(spark["mark"], dict) else spark["mark"] == "line"


def test_filter_values_are_offered_from_the_loaded_data(editor_on_data: AppTest, store: Path):
    at = editor_on_data.sidebar.button(key="open:email_sign_ups").click().run()
    with duckdb.connect(str(store), read_only=True) as con:
        seen = sorted(r[0] for r in con.execute(
            "SELECT DISTINCT p.value.string_value FROM (SELECT unnest(event_params) AS p FROM ga4_events "
            "WHERE event_name = 'sign_up') WHERE p.key = 'method' AND p.value.string_value IS NOT NULL").fetchall())
    pick = at.selectbox(key="k.m.one.where.0.pick")
    assert pick.options[1:] == seen and "google" in seen
    pick.set_value("google").run()
    assert at.text_input(key="k.m.one.where.0.value").value == "google"
