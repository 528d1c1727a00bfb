"""`kpi validate` end to end: goldens, exit codes, --strict, and the json / github / sarif formats."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[2]
GOLDEN_DIR = REPO / "tests" / "fixtures" / "invalid" / "_golden_report"
GOLDEN_TEXT = REPO / "tests" / "fixtures" / "invalid" / "_golden_report.txt"
UPDATE = os.environ.get("KPI_UPDATE_GOLDEN") == "1"

runner = CliRunner()


def run(app, *args: str):
    return runner.invoke(app, ["validate", *args], catch_exceptions=False)


def test_golden_json_of_the_examples_has_no_issue(app, monkeypatch) -> None:
    monkeypatch.chdir(REPO)
    result = run(app, "--format", "json")
    assert result.exit_code == 0, result.output
    files = len(list((REPO / "kpis").rglob("*.yaml")))
    assert json.loads(result.stdout) == {"files_checked": files, "errors": 0, "warnings": 0, "issues": []}


def test_golden_text_of_a_broken_folder(app, monkeypatch) -> None:
    """Regenerate with `make golden` (KPI_UPDATE_GOLDEN=1) and review the diff."""
    monkeypatch.chdir(GOLDEN_DIR)
    result = run(app, "kpis")
    assert result.exit_code == 1
    if UPDATE:
        GOLDEN_TEXT.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == GOLDEN_TEXT.read_text(encoding="utf-8")


def test_a_broken_kpi_file_does_not_cause_false_reports_elsewhere(app, tmp_path, monkeypatch) -> None:
    """While `revenue.yaml` has errors, nothing else claims `revenue` is missing or its events unused."""
    import shutil

    shutil.copytree(REPO / "kpis", tmp_path / "kpis")
    path = tmp_path / "kpis" / "revenue" / "revenue.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("title: Revenue\n", "titel: Revenue\n"),
                    encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    report = json.loads(run(app, "--format", "json", "kpis").stdout)
    assert [(i["code"], i["file"]) for i in report["issues"]] == [("KB201", "kpis/revenue/revenue.yaml")]


def test_text_output_shape(app, monkeypatch) -> None:
    monkeypatch.chdir(GOLDEN_DIR)
    lines = run(app, "kpis").stdout.splitlines()
    assert lines[0].startswith("kpis/broken.yaml:4:1  KB104  ")
    assert lines[1].startswith("    → ")
    assert lines[-1] == "✗ 5 files checked: 6 errors, 1 warning."


# --- exit codes ----------------------------------------------------------------------------------

def test_exit_0_with_warnings_only_and_1_with_strict(app, examples) -> None:
    examples.replace("acquisition/sessions.yaml", "[channel, device_category]", "[channel, page_path]")
    assert run(app, str(examples.root)).exit_code == 0
    result = run(app, "--strict", str(examples.root))
    assert result.exit_code == 1
    assert "0 errors, 1 warning" in result.stdout


def test_exit_1_with_errors(app, examples) -> None:
    examples.set_top("leads/leads.yaml", "thresholds", "{warn_above: 1, critical_below: 0}")
    assert run(app, str(examples.root)).exit_code == 1


@pytest.mark.parametrize("args", [["no/such/folder"], ["--format", "xml", "kpis"], ["--bogus"]])
def test_exit_2_on_usage_errors(app, monkeypatch, args: list[str]) -> None:
    monkeypatch.chdir(REPO)
    result = runner.invoke(app, ["validate", *args])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


# --- machine formats ----------------------------------------------------------------------------------

def test_json_lists_every_issue_with_its_place(app, monkeypatch) -> None:
    monkeypatch.chdir(GOLDEN_DIR)
    report = json.loads(run(app, "--format", "json", "kpis").stdout)
    assert (report["errors"], report["warnings"]) == (6, 1)
    first = report["issues"][0]
    assert set(first) == {"code", "level", "message", "hint", "file", "line", "column", "key_path"}
    assert (first["file"], first["line"], first["code"]) == ("kpis/broken.yaml", 4, "KB104")


def test_github_annotations(app, monkeypatch) -> None:
    monkeypatch.chdir(GOLDEN_DIR)
    lines = run(app, "--format", "github", "kpis").stdout.splitlines()
    annotations = [line for line in lines if line.startswith("::")]
    assert len(annotations) == 7
    assert annotations[0].startswith("::error file=kpis/broken.yaml,line=4,col=1,title=KB104::a tab character")
    assert any(a.startswith("::warning file=kpis/quotes.yaml,line=16,col=23,title=KB701::") for a in annotations)
    assert all("\n" not in a for a in annotations)
    assert lines[-1].startswith("✗ 5 files checked")


# The parts of SARIF 2.1.0 that code-scanning readers rely on.
SARIF_SUBSET = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "runs": {"type": "array", "minItems": 1, "items": {
            "type": "object",
            "required": ["tool", "results"],
            "properties": {
                "tool": {"type": "object", "required": ["driver"], "properties": {"driver": {
                    "type": "object", "required": ["name", "rules"],
                    "properties": {"name": {"type": "string"}, "rules": {"type": "array", "items": {
                        "type": "object", "required": ["id", "shortDescription"],
                        "properties": {"id": {"type": "string", "pattern": "^KB\\d{3}$"},
                                       "shortDescription": {"type": "object", "required": ["text"]}}}}}}}},
                "results": {"type": "array", "items": {
                    "type": "object",
                    "required": ["ruleId", "ruleIndex", "level", "message", "locations"],
                    "properties": {
                        "level": {"enum": ["error", "warning", "note", "none"]},
                        "message": {"type": "object", "required": ["text"],
                                    "properties": {"text": {"type": "string", "minLength": 1}}},
                        "locations": {"type": "array", "minItems": 1, "items": {
                            "type": "object", "required": ["physicalLocation"],
                            "properties": {"physicalLocation": {
                                "type": "object", "required": ["artifactLocation", "region"],
                                "properties": {
                                    "artifactLocation": {"type": "object", "required": ["uri"]},
                                    "region": {"type": "object", "required": ["startLine"], "properties": {
                                        "startLine": {"type": "integer", "minimum": 1},
                                        "startColumn": {"type": "integer", "minimum": 1}}}}}}}}}}}}}},
    },
}


def test_sarif_is_well_formed(app, monkeypatch) -> None:
    monkeypatch.chdir(GOLDEN_DIR)
    sarif = json.loads(run(app, "--format", "sarif", "kpis").stdout)
    jsonschema.validate(sarif, SARIF_SUBSET)
    run_ = sarif["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    assert len(run_["results"]) == 7
    for result in run_["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert rules[result["ruleIndex"]]["shortDescription"]["text"] != result["ruleId"]  # a real title
    assert {r["level"] for r in run_["results"]} == {"error", "warning"}
