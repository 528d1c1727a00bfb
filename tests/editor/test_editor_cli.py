"""`kpi edit` on the command line: this computer only by default, a clear message for a wrong folder."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from editor.cli import APP, streamlit_command
from kpibridge.cli import app


def test_binds_to_this_computer_only_by_default():
    command = streamlit_command(8502, "127.0.0.1", open_browser=False)
    assert command[command.index("--server.address") + 1] == "127.0.0.1"
    assert str(APP) in command and APP.name == "app.py" and APP.parent.name == "editor"
    result = CliRunner().invoke(app, ["edit", "--help"], terminal_width=200)
    assert result.exit_code == 0 and "127.0.0.1" in result.output


def test_a_missing_kpi_folder_is_a_usage_error(tmp_path: Path):
    result = CliRunner().invoke(app, ["edit", "--kpis", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "No such folder" in result.output


def test_the_dashboard_does_not_offer_the_editor():
    dashboard = (Path(APP).parents[1] / "dashboards").rglob("*.py")
    assert not any("editor" in p.read_text(encoding="utf-8") for p in dashboard)
