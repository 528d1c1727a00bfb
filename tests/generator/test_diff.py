"""`kpi diff`: one fixture pair per change class (tests/fixtures/diff/<case>: the base catalog as OLD, the
base with the case's new/ files as NEW), exactly the expected changes, breaking or not, with the KPIs."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from generator.cli import commands as generator_cli
from generator.rules.validate import validate_paths
from generator.spec.diff import CatalogDiff, Change, _pair_renames, diff_snapshots, to_json, to_markdown
from generator.spec.snapshot import snapshot_of

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "diff"
BASE = FIXTURES / "base" / "kpis"
CASES = sorted(p.name for p in FIXTURES.iterdir() if (p / "case.json").exists())
runner = CliRunner()


def kpi_app() -> typer.Typer:
    app = typer.Typer()
    generator_cli.register(app)
    return app


def make_pair(case: str, root: Path) -> tuple[Path, Path, dict[str, Any]]:
    """OLD and NEW project folders (each with kpis/) for one case."""
    spec = json.loads((FIXTURES / case / "case.json").read_text())
    old, new = root / "old", root / "new"
    shutil.copytree(BASE, old / "kpis")
    shutil.copytree(BASE, new / "kpis")
    for rel in spec["delete"]:
        (new / "kpis" / rel).unlink()
    overlay = FIXTURES / case / "new"
    if overlay.is_dir():
        shutil.copytree(overlay, new / "kpis", dirs_exist_ok=True)
    return old, new, spec


def snapshot(folder: Path, allow_errors: bool = False) -> dict[str, Any]:
    validated = validate_paths([folder / "kpis"], relative_to=folder)
    assert allow_errors or not validated.report.errors, [i.message for i in validated.report.errors]
    return snapshot_of(validated.catalog)


def test_every_change_class_has_a_fixture() -> None:
    kinds = {e["kind"] for c in CASES for e in json.loads((FIXTURES / c / "case.json").read_text())["expect"]}
    assert {"event_removed", "event_renamed", "event_added", "param_removed", "param_renamed", "param_added",
            "param_type_changed", "param_made_required", "param_made_optional", "enum_values_removed",
            "enum_values_added", "pattern_changed", "bounds_changed", "pii_changed", "trigger_changed",
            "key_event_changed", "custom_definition_added", "kpi_added", "kpi_removed", "kpi_changed"} <= kinds


@pytest.mark.parametrize("case", CASES)
def test_fixture_pair(case: str, tmp_path: Path) -> None:
    old, new, spec = make_pair(case, tmp_path)
    diff = diff_snapshots(snapshot(old), snapshot(new, spec.get("allow_errors", False)))
    got = sorted((c.kind, c.subject, c.breaking) for c in diff.changes)
    want = sorted((e["kind"], e["subject"], e["breaking"]) for e in spec["expect"])
    assert got == want, spec["description"]
    for e in spec["expect"]:
        if "kpis" in e:
            change = next(c for c in diff.changes if (c.kind, c.subject) == (e["kind"], e["subject"]))
            assert [k for k, _owner in change.kpis] == e["kpis"], (e, change.kpis)
            assert all(owner for _k, owner in change.kpis), "every affected KPI comes with its owner"
    assert [c.breaking for c in diff.changes] == sorted((c.breaking for c in diff.changes), reverse=True)


def test_diff_of_a_catalog_with_itself_is_empty(example_kpis_dir: Path) -> None:
    snap = snapshot_of(validate_paths([example_kpis_dir]).catalog)
    assert diff_snapshots(snap, snap).changes == []
    assert json.loads(json.dumps(snap)) == snap, "the snapshot is plain JSON"


def test_rename_pairs_similar_names_only() -> None:
    assert _pair_renames(["form_variant"], ["form_variation"]) == ([], [], [("form_variant", "form_variation")])
    assert _pair_renames(["coupon"], ["lead_source"]) == (["coupon"], ["lead_source"], [])
    assert _pair_renames(["a_b_c", "x"], ["a_b_cd"]) == (["x"], [], [("a_b_c", "a_b_cd")])


def test_markdown_is_a_pr_comment_with_breaking_changes_first(tmp_path: Path) -> None:
    old, new, _ = make_pair("enum_value_removed", tmp_path)
    (new / "kpis" / "revenue.yaml").write_text((new / "kpis" / "revenue.yaml").read_text()
                                               .replace("target: 4000", "target: 4500"))
    md = to_markdown(diff_snapshots(snapshot(old), snapshot(new)), "main", "HEAD")
    assert md.startswith("### KPI Bridge: tracking-plan diff `main` → `HEAD`")
    assert "⚠️ **1 breaking change for IT**, 1 other change." in md
    assert md.index("#### Breaking for IT") < md.index("#### Other changes")
    assert "| param `purchase.payment_type`: value(s) `invoice` no longer allowed | `revenue` (cfo@shop.example) |" in md
    assert "KPI owners to loop in: cfo@shop.example." in md


def test_markdown_escapes_names_and_text() -> None:
    change = Change("kpi_changed", "kpi", "x", False, "KPI {} changed", ("a|b`<script>",),
                    (("a|b", "<b>o</b>|x"),))
    md = to_markdown(CatalogDiff([change]), "old", "new")
    row = next(ln for ln in md.splitlines() if ln.startswith("| KPI"))
    outside_code = re.sub(r"(`+).*?\1", "", md)
    assert "<script>" not in outside_code and "<b>" not in md
    assert row.count("|") - row.count("\\|") == 3, row
    assert to_markdown(CatalogDiff([]), "a", "b").endswith("No changes to KPIs, events, params or custom definitions.\n")


def test_json_output(tmp_path: Path) -> None:
    old, new, _ = make_pair("param_removed", tmp_path)
    data = json.loads(to_json(diff_snapshots(snapshot(old), snapshot(new)), "old", "new"))
    assert data["breaking"] == 1 and data["non_breaking"] == 0
    assert data["affected_kpis"] == [{"id": "revenue", "owner": "cfo@shop.example"}]
    [change] = data["changes"]
    assert change["kind"] == "param_removed" and change["message"].startswith("param `purchase.shipping_tier` removed")


def test_cli_folders_formats_and_fail_on_breaking(tmp_path: Path) -> None:
    old, new, _ = make_pair("param_made_required", tmp_path)
    md = runner.invoke(kpi_app(), ["diff", str(old), str(new)])
    assert md.exit_code == 0 and "Breaking for IT" in md.output
    failing = runner.invoke(kpi_app(), ["diff", str(old), str(new), "--fail-on-breaking"])
    assert failing.exit_code == 1
    as_json = runner.invoke(kpi_app(), ["diff", str(old / "kpis"), str(new / "kpis"), "--format", "json"])
    assert as_json.exit_code == 0 and json.loads(as_json.output)["breaking"] == 1
    calm_old, calm_new, _ = make_pair("enum_value_added", tmp_path / "calm")
    calm = runner.invoke(kpi_app(), ["diff", str(calm_old), str(calm_new), "--fail-on-breaking"])
    assert calm.exit_code == 0 and "No breaking changes" in calm.output


def test_cli_reports_a_bad_source_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    done = runner.invoke(kpi_app(), ["diff", "no-such-thing", str(BASE)])
    assert done.exit_code == 2
    assert "neither a folder nor a git revision" in done.output
    assert "Traceback" not in done.output
