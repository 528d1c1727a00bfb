"""Issue 14, the CLI side: nothing found is said, a percent share above 1 fails, files others can read,
`kpi explain` short by default."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _examples(tmp_path: Path) -> Path:
    kpis = tmp_path / "kpis"
    shutil.copytree(REPO / "kpis", kpis)
    return kpis


@pytest.mark.parametrize("command", ["validate", "generate"])
def test_an_empty_kpis_folder_is_explained_not_a_green_tick(app, tmp_path, monkeypatch, command):
    (tmp_path / "kpis").mkdir()
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, [command])
    assert result.exit_code == 1
    assert "✓" not in result.output and "0 files" not in result.output
    text = " ".join(result.output.split())
    assert "No KPI files in kpis" in text and "kpis/README.md" in text


def test_a_share_target_written_as_a_whole_percent_is_an_error(app, tmp_path, monkeypatch):
    kpis = _examples(tmp_path)
    path = kpis / "conversion" / "session_conversion_rate.yaml"
    text = path.read_text().replace("value: 0.030}", "value: 30}")
    path.write_text(text)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["validate", "kpis"])
    assert result.exit_code == 1
    out = " ".join(result.stdout.split())
    assert "KB609" in out and "the target from 2026-01-01 is 30" in out and "`0.3`" in out


def test_generated_files_are_readable_by_others(app, tmp_path, monkeypatch):
    _examples(tmp_path)
    monkeypatch.chdir(tmp_path)
    old = os.umask(0o022)
    try:
        result = runner.invoke(app, ["generate", "--out", "build"])
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    files = [p for p in (tmp_path / "build").rglob("*") if p.is_file()]
    assert files
    modes = {oct(stat.S_IMODE(p.stat().st_mode)) for p in files}
    assert modes == {"0o644"}, modes


def test_explain_shows_plain_words_by_default_and_the_rest_on_request(monkeypatch):
    from kpibridge.cli import app

    monkeypatch.chdir(REPO)
    short = runner.invoke(app, ["explain", "session_conversion_rate"])
    assert short.exit_code == 0, short.output
    lines = short.stdout.splitlines()
    assert len(lines) < 25
    assert "target: 3% from 2026-01-01; 3.5% from 2026-07-01" in " ".join(short.stdout.split())
    assert "SELECT" not in short.stdout and "dimensionFilter" not in short.stdout
    assert "--requests" in short.stdout and "--all" in short.stdout

    requests = runner.invoke(app, ["explain", "session_conversion_rate", "--requests"])
    assert "GA4 Data API" in requests.stdout and "SELECT" not in requests.stdout
    one = runner.invoke(app, ["explain", "session_conversion_rate", "--sql", "duckdb"])
    assert "SQL (duckdb)" in one.stdout and "SQL (bigquery)" not in one.stdout
    everything = runner.invoke(app, ["explain", "session_conversion_rate", "--all"])
    for part in ("GA4 Data API", "SQL (duckdb)", "SQL (bigquery)"):
        assert part in everything.stdout
