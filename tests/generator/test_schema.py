"""Generated docs cannot drift: kpis/kpi.schema.json and the guide's tables match the models; the guide's
examples are real and valid."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from generator.parse.loading import parse_document
from generator.rules.validate import validate_paths
from generator.targets import file_schema as schema

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "kpis" / "README.md"


def _plain(value: object) -> object:
    """YAML data as JSON sees it (dates are strings)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value.isoformat() if isinstance(value, dt.date) else value


def test_committed_schema_matches_the_models() -> None:
    assert (REPO / "kpis" / "kpi.schema.json").read_text(encoding="utf-8") == schema.json_schema_text(), \
        "kpis/kpi.schema.json is out of date: run `make schema`"


def test_guide_tables_match_the_models() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    assert schema.guide_text(text) == text, "the tables in kpis/README.md are out of date: run `make schema`"


def test_check_command_agrees() -> None:
    assert schema.main(["--check"]) == 0


def test_kpi_schema_command_writes_stdout_or_a_file(app, tmp_path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0 and json.loads(result.stdout)["anyOf"]
    out = tmp_path / "kpi.schema.json"
    assert runner.invoke(app, ["schema", "--out", str(out)]).exit_code == 0
    assert out.read_text(encoding="utf-8") == schema.json_schema_text()


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    loaded = json.loads(schema.json_schema_text())
    jsonschema.Draft202012Validator.check_schema(loaded)
    return jsonschema.Draft202012Validator(loaded, format_checker=jsonschema.FormatChecker())


@pytest.mark.parametrize("path", sorted((REPO / "kpis").rglob("*.yaml")), ids=lambda p: p.name)
def test_every_example_satisfies_the_schema_and_carries_the_modeline(validator, path: Path) -> None:
    doc = parse_document(path.read_bytes(), path.name)
    assert list(validator.iter_errors(_plain(doc.data))) == []
    depth = len(path.relative_to(REPO / "kpis").parts) - 1
    assert path.read_text().splitlines()[0] == f"# yaml-language-server: $schema={'../' * depth}kpi.schema.json"


@pytest.mark.parametrize("text", [
    "version: 1\nkpi: x\ntitel: X\n",  # a typo
    "version: 1\nkpi: x\ntitle: X\ndescription: d\nobjective: o\nowner: o\nteam: t\nmeasure: {count: a, sessions: {}}\n",
    "version: 1\nevents: {purchase: {params: {value: {type: float}}}}\n",
])
def test_the_schema_flags_what_editors_should_flag(validator, text: str) -> None:
    assert list(validator.iter_errors(_plain(parse_document(text.encode(), "x.yaml").data)))


# --- every YAML example in the guide is valid ------------------------------------------------------

BASE_KPI = """version: 1
kpi: example
title: Example
description: An example from the authoring guide.
objective: Grow online revenue
owner: growth-lead@shop.example
team: growth
"""


def _guide_examples() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.DOTALL)


@pytest.mark.parametrize("block", _guide_examples(), ids=lambda b: b.strip().splitlines()[0][:40])
def test_guide_example_is_valid(block: str, tmp_path) -> None:
    """A whole KPI file or catalog is checked as it is (KPIs beside the example catalog); a fragment is set
    into a KPI. Warnings are fine here (a catalog example alone feeds no KPI)."""
    kpis = tmp_path / "kpis"
    data = parse_document(block.encode(), "block.yaml").data
    if "events" in data or "user_properties" in data:
        kpis.mkdir()
        (kpis / "events.yaml").write_text(block)
    else:
        shutil.copytree(REPO / "kpis", kpis, ignore=shutil.ignore_patterns("*.md", "*.json"))
        if "kpi" in data:
            text = block
        else:
            text = BASE_KPI + block + ("" if "measure" in data else "measure:\n  count: {event: generate_lead}\n")
            data = parse_document(text.encode(), "block.yaml").data
        (kpis / f"{data['kpi']}.yaml").write_text(text)
        for same in kpis.rglob(f"{data['kpi']}.yaml"):
            if same.parent != kpis:
                same.unlink()
    report = validate_paths([kpis], relative_to=kpis).report
    assert report.errors == [], "\n".join(f"{i.location} {i.code} {i.message}" for i in report.errors)
