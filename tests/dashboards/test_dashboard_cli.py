"""`kpi dashboard` is registered on the `kpi` app and runs `streamlit run` on the app file."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from dashboards.cli import APP, register, streamlit_command


def test_dashboard_command_is_registered():
    # A fresh app: the `kpi` shell calls the same register(); the browser test runs the real `kpi`.
    app = typer.Typer()
    register(app)

    @app.command()
    def other() -> None:  # a second command, so typer keeps `dashboard` as a subcommand
        pass

    result = CliRunner().invoke(app, ["dashboard", "--help"])
    assert result.exit_code == 0
    for option in ("--db", "--port", "--host", "--open"):
        assert option in result.output


def test_streamlit_command_line():
    command = streamlit_command(8599, "127.0.0.1", open_browser=False)
    assert command[1:5] == ["-m", "streamlit", "run", str(APP)]
    flags = dict(zip(command[5::2], command[6::2], strict=True))
    assert flags["--server.port"] == "8599"
    assert flags["--server.headless"] == "true"
    assert flags["--browser.gatherUsageStats"] == "false"
    assert APP.name == "streamlit_app.py" and APP.exists()


def test_the_dashboard_reads_the_file_a_refresh_writes_for_any_db_name(tmp_path):
    """`kpi refresh --db w.db` and `kpi dashboard --db w.db` agree on the serving file (it was w.serving.db
    written and w.serving.duckdb looked for, so the dashboard said "No serving database yet")."""
    import subprocess
    import sys

    from dashboards.serving_file import serving_path

    db = tmp_path / "w.db"
    kpi = [sys.executable, "-m", "kpibridge"]
    for args in (["load", "demo", "--events", "3000", "--days", "3"], ["refresh"]):
        done = subprocess.run([*kpi, *args, "--db", str(db)], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
    written = [p.name for p in tmp_path.iterdir() if ".serving" in p.name]
    assert written == [serving_path(db).name]
