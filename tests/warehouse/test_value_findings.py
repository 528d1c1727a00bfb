"""Filter values checked against the loaded data (issue 10 §7): `kpi refresh` and `kpi validate --db`, run as a
user runs them, name the value, its file and line, and what the data spells instead; a KPI that computes
nothing is named too, and the serving copy keeps why (the dashboard explains the empty card from it)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from generator.rules.data_values import KpiOutcome, LoadedDays, ObservedValues, check_against_data
from generator.rules.validate import validate_paths
from generator.rules.value_uses import Subject

REPO = Path(__file__).resolve().parents[2]
DACH = """version: 1
kpi: dach_leads
title: Leads from DACH
description: Leads from Germany, Austria and Switzerland, by e-mail.
objective: Grow B2B leads
owner: b2b-marketing@shop.example
team: b2b
measure:
  count:
    event: generate_lead
    where:
      - {dimension: country, in: [DE, AT, CH]}
      - {dimension: channel, not_equals: email}
direction: up
target: 6
"""


def kpi(project: Path, *args: str) -> subprocess.CompletedProcess:
    """The real `kpi` command, in the project folder, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "kpibridge", *args], cwd=project, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "COLUMNS": "400", "PYTHONPATH": str(REPO)}, timeout=300)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("values")
    shutil.copytree(REPO / "kpis", root / "kpis")
    (root / "kpis" / "leads" / "dach_leads.yaml").write_text(DACH)
    loaded = kpi(root, "load", "demo", "--events", "20000", "--days", "7", "--seed", "3", "--db", "w.duckdb")
    assert loaded.returncode == 0, loaded.stderr
    return root


def line_of(project: Path, text: str) -> int:
    lines = (project / "kpis" / "leads" / "dach_leads.yaml").read_text().splitlines()
    return next(i for i, line in enumerate(lines, start=1) if text in line)


def test_the_store_spells_countries_in_english(project) -> None:
    with duckdb.connect(str(project / "w.duckdb"), read_only=True) as con:
        countries = {c for (c,) in con.execute("SELECT DISTINCT geo.country FROM ga4_events").fetchall()}
        channels = {c for (c,) in con.execute(
            "SELECT DISTINCT collected_traffic_source.manual_medium FROM ga4_events").fetchall()}
    assert {"Germany", "Austria", "Switzerland"} <= countries and "DE" not in countries
    assert "email" in channels  # the demo's e-mail visits: GA4 calls their channel `Email`


def test_refresh_names_each_value_its_line_and_the_spelling_in_the_data(project) -> None:
    result = kpi(project, "refresh", "--db", "w.duckdb")
    assert result.returncode == 0, result.stderr  # warnings, not a failure
    out = result.stdout
    row = line_of(project, "in: [DE, AT, CH]")
    for code, meant in (("DE", "Germany"), ("AT", "Austria"), ("CH", "Switzerland")):
        line = next(ln for ln in out.splitlines() if f"`{code}` never occurs" in ln)
        assert line.strip().startswith(f"kpis/leads/dach_leads.yaml:{row}:") and "KB631" in line
        assert f"Did you mean `{meant}`?" in line
    email = next(ln for ln in out.splitlines() if "`email` never occurs" in ln)
    assert f"dach_leads.yaml:{line_of(project, 'not_equals: email')}:" in email
    assert "excludes nothing" in email and "Did you mean `Email`?" in email
    empty = next(ln for ln in out.splitlines() if "KB633" in ln)
    # a count adds up, so the days with data but no matching lead hold 0 (zero is zero, issue 10 §8)
    assert "`dach_leads` is 0 on every one of the 7 loaded days" in empty
    assert not any("`sessions`" in ln and "KB633" in ln for ln in out.splitlines())

    with duckdb.connect(str(project / "w.serving.duckdb"), read_only=True) as con:
        stored = con.execute("SELECT code, line, message FROM kpi_value_findings WHERE kpi_id = 'dach_leads' "
                             "ORDER BY line, message").fetchall()
    assert [c for c, _l, _m in stored].count("KB631") == 4 and ("KB633", line_of(project, "count:") - 1) in \
        [(c, ln) for c, ln, _m in stored]


def test_refresh_json_carries_the_findings(project) -> None:
    result = kpi(project, "refresh", "--db", "w.duckdb", "--format", "json")
    found = json.loads(result.stdout)["findings"]
    de = next(f for f in found if "`DE`" in f["message"])
    assert (de["code"], de["file"], de["line"], de["level"]) == ("KB631", "kpis/leads/dach_leads.yaml",
                                                                 line_of(project, "[DE, AT, CH]"), "warning")


def test_validate_with_the_warehouse_reports_the_same_and_follows_strict(project) -> None:
    plain = kpi(project, "validate", "kpis", "--db", "w.duckdb")
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert "KB631" in plain.stdout and "Did you mean `Germany`?" in plain.stdout
    assert "KB630" not in plain.stdout  # the data's KB631 says it at the same place
    assert kpi(project, "validate", "kpis", "--db", "w.duckdb", "--strict").returncode == 1
    report = json.loads(kpi(project, "validate", "kpis", "--db", "w.duckdb", "--format", "json").stdout)
    assert {i["code"] for i in report["issues"]} >= {"KB631", "KB633"}
    without = kpi(project, "validate", "kpis")  # no data: GA4's spelling of countries and channels
    assert "KB630" in without.stdout and "KB631" not in without.stdout
    missing = kpi(project, "validate", "kpis", "--db", "nowhere.duckdb")
    assert missing.returncode == 2 and "no warehouse at nowhere.duckdb" in missing.stderr


def test_fixed_values_compute_what_the_events_say(project, tmp_path) -> None:
    fixed = tmp_path / "fixed"
    shutil.copytree(project, fixed)
    path = fixed / "kpis" / "leads" / "dach_leads.yaml"
    path.write_text(DACH.replace("[DE, AT, CH]", "[Germany, Austria, Switzerland]").replace(
        "      - {dimension: channel, not_equals: email}\n", ""))
    result = kpi(fixed, "refresh", "--db", "w.duckdb")
    assert result.returncode == 0 and "dach_leads" not in result.stdout, result.stdout
    with duckdb.connect(str(fixed / "w.duckdb"), read_only=True) as con:
        expected = con.execute("SELECT count(*) FROM ga4_events WHERE event_name = 'generate_lead' "
                               "AND geo.country IN ('Germany', 'Austria', 'Switzerland')").fetchone()[0]
        got = con.execute("SELECT sum(value) FROM kpi_values WHERE kpi_id = 'dach_leads' AND breakdown = ''"
                          ).fetchone()[0]
    assert expected > 0 and got == expected


# --- the pure checker, on sets ----------------------------------------------------------------------


def _catalog(tmp_path: Path, where: str, breakdowns: str = "[]"):
    (tmp_path / "k").mkdir(exist_ok=True)
    (tmp_path / "k" / "k.yaml").write_text(DACH.replace(
        "      - {dimension: country, in: [DE, AT, CH]}\n      - {dimension: channel, not_equals: email}\n", where)
        .replace("kpi: dach_leads", "kpi: k") + f"breakdowns: {breakdowns}\n")
    return validate_paths([tmp_path / "k"]).catalog


def test_parts_of_values_and_incomplete_or_empty_sets(tmp_path) -> None:
    catalog = _catalog(tmp_path, "      - {dimension: page_path, contains: /Blog/}\n"
                                 "      - {dimension: landing_page, starts_with: /shop}\n")
    pages = ObservedValues(frozenset({"/blog/a", "/shop/b"}))
    issues = check_against_data(catalog, {Subject("dimension", "page_path"): pages,
                                          Subject("dimension", "landing_page"): pages}, {}, None)
    assert [i.message.split(":")[0] for i in issues] == ["`/Blog/` never occurs in the loaded data"]
    assert "no value contains `/Blog/`" in issues[0].message and "Did you mean `/blog/a`?" in issues[0].message
    # a capped read, or nothing loaded for the subject: nothing to say about the value
    capped = ObservedValues(frozenset({"/x"}), complete=False)
    assert check_against_data(catalog, {Subject("dimension", "page_path"): capped}, {}, None) == []
    assert check_against_data(catalog, {Subject("dimension", "page_path"): ObservedValues(frozenset())}, {}, None) == []


def test_breakdowns_with_only_not_set_and_kpis_that_are_zero(tmp_path) -> None:
    catalog = _catalog(tmp_path, "      - {param: lead_source, equals: newsletter}\n", "[{param: lead_source}]")
    subject = Subject("param", "lead_source", "generate_lead")
    days = LoadedDays(__import__("datetime").date(2024, 1, 1), __import__("datetime").date(2024, 1, 3), 3)
    issues = check_against_data(catalog, {subject: ObservedValues(frozenset({"(not set)"}))}, {"k": KpiOutcome(3, 0)},
                                days)
    assert sorted(i.code for i in issues) == ["KB631", "KB632", "KB633"]
    assert "is 0 on every one of the 3 loaded days" in next(i.message for i in issues if i.code == "KB633")
    assert check_against_data(catalog, {subject: ObservedValues(frozenset({"newsletter"}))},
                              {"k": KpiOutcome(3, 1)}, days) == []
