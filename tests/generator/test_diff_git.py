"""`kpi diff main HEAD`: OLD and NEW as git revisions, read with `git archive`, the working tree untouched."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from generator.cli import commands as generator_cli
from generator.parse.git_revisions import RevisionError, kpis_at

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "diff"
GIT = shutil.which("git")
pytestmark = pytest.mark.skipif(GIT is None, reason="git is not installed")
runner = CliRunner()


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false",
                           *args], cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Two commits on `main`: the base catalog, then `invoice` removed from payment_type."""
    root = tmp_path / "project"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    shutil.copytree(FIXTURES / "base" / "kpis", root / "kpis")
    git(root, "add", "kpis")
    git(root, "commit", "-q", "-m", "base")
    shutil.copytree(FIXTURES / "enum_value_removed" / "new", root / "kpis", dirs_exist_ok=True)
    git(root, "commit", "-q", "-am", "drop invoice")
    return root


def kpi_app() -> typer.Typer:
    app = typer.Typer()
    generator_cli.register(app)
    return app


def test_diff_between_two_revisions(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    done = runner.invoke(kpi_app(), ["diff", "main~1", "HEAD", "--format", "json", "--fail-on-breaking"])
    assert done.exit_code == 1, done.output
    data = json.loads(done.output)
    assert (data["old"], data["new"], data["breaking"]) == ("main~1", "HEAD", 1)
    assert data["changes"][0]["kind"] == "enum_values_removed"
    assert git(repo, "status", "--porcelain") == "", "the working tree is untouched"


def test_revision_against_the_working_folder_and_from_a_subfolder(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events = repo / "kpis" / "events.yaml"
    events.write_text(events.read_text().replace("enum: [card, paypal]", "enum: [card, paypal, klarna]"))
    (repo / "docs").mkdir()
    monkeypatch.chdir(repo / "docs")
    done = runner.invoke(kpi_app(), ["diff", "HEAD", "..", "--kpis-subdir", "kpis"])
    assert done.exit_code == 0, done.output
    assert "value(s) `klarna` added" in done.output


def test_paths_in_a_revision_read_like_the_repository(repo: Path) -> None:
    with kpis_at("HEAD", cwd=repo) as source:
        assert (source.kpis_dir / "events.yaml").exists()
        assert (source.kpis_dir.relative_to(source.root)).as_posix() == "kpis"
        tmp = source.root
    assert not tmp.exists(), "the temporary checkout is removed"


def test_bad_revisions_are_reported_not_raised(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(RevisionError, match="neither a folder nor a git revision"):
        with kpis_at("no-such-branch", cwd=repo):
            pass
    with pytest.raises(RevisionError, match="neither a folder nor a git revision"):
        with kpis_at("--output=/tmp/x", cwd=repo):
            pass
    with pytest.raises(RevisionError, match="does not exist at revision"):
        with kpis_at("HEAD", kpis_subdir="metrics", cwd=repo):
            pass
    monkeypatch.chdir(repo)
    done = runner.invoke(kpi_app(), ["diff", "HEAD", "HEAD", "--kpis-subdir", "metrics"])
    assert done.exit_code == 2 and "does not exist at revision" in done.output
