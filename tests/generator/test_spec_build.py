"""`kpi generate`: the target registry, deterministic output, the build folder on disk, `--check`,
refusing invalid KPI files, and "what changed since the previous build"."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import typer
from typer.testing import CliRunner

from generator.cli import commands as generator_cli
from generator.plan.queries import compile_plan
from generator.rules.validate import validate_paths
from generator.targets import TARGETS, Artifact, RenderContext
from generator.targets.build import (
    MANIFEST,
    BuildError,
    build_artifacts,
    read_previous_build,
    write_artifacts,
)

runner = CliRunner()


def kpi_app() -> typer.Typer:
    app = typer.Typer()
    generator_cli.register(app)
    return app


def copy_examples(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst / "kpis")
    return dst / "kpis"


def test_every_target_is_a_render_function_and_paths_are_unique(example_kpis_dir: Path) -> None:
    assert all(callable(getattr(t, "render", None)) for t in TARGETS)
    catalog = validate_paths([example_kpis_dir]).catalog
    artifacts = build_artifacts(catalog)
    paths = [a.path for a in artifacts]
    assert paths == sorted(paths) and len(paths) == len(set(paths))
    clash = SimpleNamespace(__name__="clash", render=lambda ctx: [Artifact("spec/index.html", "x")])
    with pytest.raises(BuildError, match="both write spec/index.html"):
        build_artifacts(catalog, targets=(*TARGETS, clash))


def test_render_context_builds_the_spec_once_and_leaves_plan_to_the_query_side(example_kpis_dir: Path) -> None:
    ctx = RenderContext(validate_paths([example_kpis_dir]).catalog)
    assert ctx.plan is None
    assert ctx.spec is ctx.spec
    assert ctx.changes_since_previous is None


def test_query_targets_share_one_plan_given_or_compiled_once(example_kpis_dir: Path) -> None:
    catalog = validate_paths([example_kpis_dir]).catalog
    ctx = RenderContext(catalog)
    plan = ctx.query_plan()
    assert ctx.plan is plan and ctx.query_plan() is plan and "revenue" in plan.kpis
    given = compile_plan(catalog)
    assert RenderContext(catalog, plan=given).query_plan() is given


def test_artifact_paths_stay_inside_the_build_folder() -> None:
    for bad in ("/etc/passwd", "../x", "spec/../../x", "", "a\\b"):
        with pytest.raises(ValueError):
            Artifact(bad, "x")
    assert Artifact("spec/a.txt", "x").content == "x\n"


def test_output_is_identical_across_runs_and_hash_seeds(example_kpis_dir: Path, tmp_path: Path) -> None:
    code = ("import sys,hashlib;from pathlib import Path;from generator.targets.build import build_artifacts;"
            "from generator.rules.validate import validate_paths;"
            "a=build_artifacts(validate_paths([Path(sys.argv[1])]).catalog);"
            "print(hashlib.sha256(repr([(x.path,x.content) for x in a]).encode()).hexdigest())")
    digests = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        digests.add(subprocess.run([sys.executable, "-c", code, str(example_kpis_dir)], env=env, check=True,
                                   capture_output=True, text=True).stdout)
    assert len(digests) == 1


def test_write_skips_unchanged_files_removes_stale_ones_and_keeps_foreign_files(tmp_path: Path) -> None:
    out = tmp_path / "build"
    first = write_artifacts(out, [Artifact("spec/a.txt", "a"), Artifact("spec/old/b.txt", "b")])
    assert first.written == ["spec/a.txt", "spec/old/b.txt"]
    (out / "spec" / "mine.txt").write_text("a file the user put there")
    mtime = (out / "spec/a.txt").stat().st_mtime_ns
    check = write_artifacts(out, [Artifact("spec/a.txt", "a")], check=True)
    assert (check.written, check.removed, check.changed) == ([], ["spec/old/b.txt"], True)
    assert (out / "spec/old/b.txt").exists(), "check mode writes nothing"
    second = write_artifacts(out, [Artifact("spec/a.txt", "a")])
    assert second.unchanged == ["spec/a.txt"] and second.removed == ["spec/old/b.txt"]
    assert (out / "spec/a.txt").stat().st_mtime_ns == mtime, "an unchanged file is not rewritten"
    assert not (out / "spec/old").exists(), "emptied folders go too"
    assert (out / "spec/mine.txt").exists(), "only files an earlier build wrote are removed"
    assert json.loads((out / MANIFEST).read_text())["files"] == ["spec/a.txt"]
    assert not write_artifacts(out, [Artifact("spec/a.txt", "a")], check=True).changed


def test_generate_then_check_then_stale(example_kpis_dir: Path, tmp_path: Path) -> None:
    kpis = copy_examples(example_kpis_dir, tmp_path)
    out = tmp_path / "build"
    args = ["generate", "--kpis", str(kpis), "--out", str(out)]
    done = runner.invoke(kpi_app(), args)
    assert done.exit_code == 0, done.output
    assert (out / "spec/index.html").exists() and "Open" in done.output
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    again = runner.invoke(kpi_app(), args)
    assert again.exit_code == 0 and "0 written" in again.output
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before, "a second run is byte-identical"
    assert runner.invoke(kpi_app(), [*args, "--check"]).exit_code == 0
    (out / "spec/tracking.ts").write_text("edited by hand")
    stale = runner.invoke(kpi_app(), [*args, "--check"])
    assert stale.exit_code == 1 and "spec/tracking.ts" in stale.output and "stale" in stale.output
    assert (out / "spec/tracking.ts").read_text() == "edited by hand", "--check writes nothing"


def test_generate_refuses_while_kpi_validate_finds_errors(example_kpis_dir: Path, tmp_path: Path) -> None:
    kpis = copy_examples(example_kpis_dir, tmp_path)
    revenue = kpis / "revenue" / "revenue.yaml"
    revenue.write_text(revenue.read_text().replace("sum: {event: purchase", "sum: {event: purchse"))
    done = runner.invoke(kpi_app(), ["generate", "--kpis", str(kpis), "--out", str(tmp_path / "build")])
    assert done.exit_code == 1
    assert "purchse" in done.output and "Not generating" in done.output
    assert not (tmp_path / "build").exists()


def test_summary_lists_changes_since_the_previous_build_and_stays_stable(example_kpis_dir: Path,
                                                                          tmp_path: Path) -> None:
    kpis = copy_examples(example_kpis_dir, tmp_path)
    out = tmp_path / "build"
    args = ["generate", "--kpis", str(kpis), "--out", str(out)]
    assert runner.invoke(kpi_app(), args).exit_code == 0
    assert "First build" in (out / "spec/index.html").read_text()
    events = kpis / "events.yaml"
    events.write_text(events.read_text().replace("enum: [card, paypal, invoice]", "enum: [card, paypal]"))
    assert runner.invoke(kpi_app(), args).exit_code == 0
    html = (out / "spec/index.html").read_text()
    assert "value(s) <code>invoice</code> no longer allowed" in html and "breaking" in html
    snapshot = json.loads((out / "spec/catalog.json").read_text())
    assert snapshot["changes_since_previous_build"][0]["kind"] == "enum_values_removed"
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert runner.invoke(kpi_app(), args).exit_code == 0
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert read_previous_build(out) is not None
    (out / "spec/catalog.json").write_text("{not json")
    assert read_previous_build(out) is None, "an unreadable snapshot counts as no previous build"
