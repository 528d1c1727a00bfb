"""`kpi edit`: serve the form editor on this computer only (127.0.0.1 unless told otherwise)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

APP = Path(__file__).with_name("app.py")
DEFAULT_PORT = 8502
console = Console(stderr=True)


def streamlit_command(port: int, host: str, open_browser: bool) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port),
            "--server.address", host, "--server.headless", "false" if open_browser else "true",
            "--server.fileWatcherType", "none", "--server.runOnSave", "false",
            "--browser.gatherUsageStats", "false", "--client.toolbarMode", "minimal"]


def edit_command(
    kpis: Path = typer.Option(Path("kpis"), "--kpis", help="The folder of KPI files to edit."),
    db: Path | None = typer.Option(None, "--db", help="The warehouse, read-only: values and filter suggestions."),
    port: int = typer.Option(DEFAULT_PORT, "--port", help="Port to serve on."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (default: this computer only)."),
    open_browser: bool = typer.Option(True, "--open/--no-open", help="Open a browser tab."),
) -> None:
    """Edit KPI files and the events catalog in a form, with `kpi validate`'s checks live."""
    from warehouse.location import resolve_db

    if not kpis.is_dir():
        console.print(f"[red]No such folder: {escape(str(kpis))}[/]. Run `kpi edit` in your project folder, "
                      "or pass --kpis DIR.")
        raise typer.Exit(2)
    store = resolve_db(db).resolve()
    env = {**os.environ, "KPIBRIDGE_EDIT_KPIS": str(kpis.resolve()), "KPIBRIDGE_DB": str(store)}
    console.print(f"[bold]KPI Bridge editor[/] on http://{host}:{port}, editing {escape(str(kpis.resolve()))}")
    if host not in ("127.0.0.1", "localhost", "::1"):
        console.print(f"[yellow]! Bound to {escape(host)}: anyone who can reach it can change the KPI files.[/]")
    console.print("Press Ctrl+C to stop.")
    command = streamlit_command(port, host, open_browser)
    if os.name == "posix":
        sys.stdout.flush()
        sys.stderr.flush()
        os.execvpe(command[0], command, env)  # become the server: stoppable by this process id
    raise typer.Exit(subprocess.call(command, env=env))


def register(app: typer.Typer) -> None:
    app.command("edit")(edit_command)
