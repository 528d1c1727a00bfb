"""Spec-stamped events end to end: a GA4 export whose events carry `kb_spec` (and some cookieless pings)
is loaded and refreshed by the real `kpi` commands; `kpi status` groups it by spec version (live since when)
and the dashboard's KPI page shows the versions and the share of events without consent.

Every expected number is counted here, in plain Python over the same events."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from dashboards.data import SERVING_ENV
from generator.rules.validate import validate_paths
from generator.spec.model import build_spec
from kpibridge.cli import app
from warehouse.schema.events import ARROW_SCHEMA

REPO = Path(__file__).resolve().parents[2]
OLD = "00aa00aa"  # the version the site sent before the current spec


def fixture_rows() -> list[dict]:
    path = REPO / "tests" / "fixtures" / "ga4_export" / "events.py"
    spec = importlib.util.spec_from_file_location("ga4_export_fixture_stamps", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.rows()


@pytest.fixture(scope="module")
def current() -> dict[str, str]:
    catalog = validate_paths([REPO / "kpis"]).catalog
    return {e.name: e.spec_version for e in build_spec(catalog).events if e.spec_version}


@pytest.fixture(scope="module")
def stamped(current: dict[str, str]) -> list[dict]:
    """The hand-made export, stamped: day 1 none, day 2 the old version, day 3 half old half current, day 4
    current; every 4th event a cookieless ping (consent denied: no user_pseudo_id)."""
    rows = fixture_rows()
    days = sorted({r["event_date"] for r in rows})
    seen: Counter = Counter()
    for i, r in enumerate(rows):
        if i % 4 == 3:
            r["user_pseudo_id"] = None
        name = r["event_name"]
        if name not in current:
            continue
        d = days.index(r["event_date"])
        seen[name] += 1
        version = [None, OLD, OLD if seen[name] % 2 else current[name], current[name]][d]
        if version:
            r["event_params"] = [*r["event_params"], {"key": "kb_spec", "value": {
                "string_value": version, "int_value": None, "float_value": None, "double_value": None}}]
    return rows


@pytest.fixture(scope="module")
def warehouse(stamped: list[dict], tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("stamped")
    export = folder / "export"
    export.mkdir()
    for day in sorted({r["event_date"] for r in stamped}):
        pq.write_table(pa.Table.from_pylist([r for r in stamped if r["event_date"] == day], schema=ARROW_SCHEMA),
                       export / f"events_{day}.parquet")
    db = folder / "warehouse.duckdb"
    runner = CliRunner()
    loaded = runner.invoke(app, ["load", "ga4-export", str(export / "events_*.parquet"), "--db", str(db)])
    assert loaded.exit_code == 0, loaded.output
    refreshed = runner.invoke(app, ["refresh", "--db", str(db), "--kpis", str(REPO / "kpis")])
    assert refreshed.exit_code == 0, refreshed.output
    return db


def expected_versions(rows: list[dict]) -> dict[str, dict]:
    """Per stamped event: shares over its last 7 days, the live version and since when, counted by hand."""
    per_day: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    for r in rows:
        version = next((p["value"]["string_value"] for p in r["event_params"] if p["key"] == "kb_spec"),
                       "not stamped")
        per_day[r["event_name"]][r["event_date"]][version] += 1
    out = {}
    for event, days in per_day.items():
        ordered = sorted(days)
        last = dt.datetime.strptime(ordered[-1], "%Y%m%d").date()
        recent = [d for d in ordered if dt.datetime.strptime(d, "%Y%m%d").date() > last - dt.timedelta(days=7)]
        total = Counter()
        for d in recent:
            total.update(days[d])

        def most(counts: Counter) -> str:
            return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]

        live = most(days[ordered[-1]])
        since = ordered[-1]
        for d in reversed(ordered):
            if most(days[d]) != live:
                break
            since = d
        out[event] = {"shares": {v: n / sum(total.values()) for v, n in total.items()}, "live": live,
                      "since": f"{since[:4]}-{since[4:6]}-{since[6:]}"}
    return out


def test_status_groups_the_export_by_spec_version(warehouse: Path, stamped: list[dict], current: dict[str, str]):
    result = CliRunner().invoke(app, ["status", "--db", str(warehouse), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {r["event"]: r for r in json.loads(result.stdout)}
    want = expected_versions(stamped)
    checked = 0
    for event, version in current.items():
        if event not in want:
            continue
        got = rows[event]
        assert got["spec_version"] == version
        assert {v["version"]: pytest.approx(v["share"], abs=1e-4) for v in got["versions"] if v["events"]} == \
            want[event]["shares"]
        assert (got["live_version"], got["live_since"]) == (want[event]["live"], want[event]["since"])
        sent = any(p["value"]["string_value"] == version for r in stamped if r["event_name"] == event
                   for p in r["event_params"] if p["key"] == "kb_spec")
        state = "current" if want[event]["live"] == version else "rolling out" if sent else "not live"
        assert got["spec_state"] == state
        checked += 1
    assert checked >= 3, "the fixture has several stamped events"
    assert rows["purchase"]["live_version"] == current["purchase"]


def test_status_table_shows_the_versions(warehouse: Path, current: dict[str, str]):
    result = CliRunner().invoke(app, ["status", "--db", str(warehouse)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Spec versions (kb_spec) the events carry:" in result.output
    assert current["purchase"] in result.output and "current" in result.output


def test_kpi_page_shows_live_versions_and_the_share_without_consent(warehouse: Path, stamped: list[dict],
                                                                    current: dict[str, str], monkeypatch):
    purchases = [r for r in stamped if r["event_name"] == "purchase"]
    share = sum(r["user_pseudo_id"] is None for r in purchases) / len(purchases)
    assert 0 < share < 1
    monkeypatch.setenv(SERVING_ENV, str(warehouse.with_name("warehouse.serving.duckdb")))
    at = AppTest.from_file(str(REPO / "dashboards" / "streamlit_app.py"), default_timeout=30)
    at.query_params["kpi"] = "revenue"
    at.run()
    at.switch_page("app_pages/kpi.py").run()
    assert not at.exception
    table = next(df.value for df in at.dataframe if "Spec version live" in df.value.columns)
    row = table[table["Event"] == "purchase"].iloc[0]
    assert row["Spec version live"].startswith(current["purchase"]) and "(current)" in row["Spec version live"]
    assert row["Without consent"] == pytest.approx(share)
    captions = " ".join(c.value for c in at.caption)
    assert f"Without consent: {share:.1%} of this KPI's events in the period were cookieless pings" in captions


def test_a_second_refresh_changes_nothing_and_an_upgraded_store_is_filled(warehouse: Path, stamped: list[dict]):
    import duckdb

    def counts() -> list[tuple]:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return con.execute("SELECT event_name, date, spec_version, events, no_consent_events "
                               "FROM event_spec_versions ORDER BY ALL").fetchall()

    before = counts()
    assert sum(r[3] for r in before) == len(stamped)
    assert sum(r[4] for r in before) == sum(r["user_pseudo_id"] is None for r in stamped)
    runner = CliRunner()
    args = ["refresh", "--db", str(warehouse), "--kpis", str(REPO / "kpis")]
    assert runner.invoke(app, args).exit_code == 0
    assert counts() == before
    with duckdb.connect(str(warehouse)) as con:  # as after the migration that added the table
        con.execute("DELETE FROM event_spec_versions")
    assert runner.invoke(app, args).exit_code == 0
    assert counts() == before
