"""`kpi dashboard`: serve the Streamlit app on the warehouse's serving database, read-only."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import typer
from rich.console import Console
from warehouse.serving_contract import resolve_db

APP = Path(__file__).with_name("streamlit_app.py")
DEFAULT_PORT = 8501

console = Console(stderr=True)


def streamlit_command(port: int, host: str, open_browser: bool = False) -> list[str]:
    """The `streamlit run` command line for the dashboard.

    Always headless: without it, Streamlit asks for an e-mail address on first start, which blocks (and
    exits 255 without a terminal). `kpi dashboard --open` opens the browser itself (`_open_when_up`).
    """
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.port",
        str(port),
        "--server.address",
        host,
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
    ]


def serve(store: Path, port: int = DEFAULT_PORT, host: str = "localhost", open_browser: bool = True) -> int:
    """Serve the dashboard until it is stopped (Ctrl+C, or SIGTERM to this process's id)."""
    # Not data.py: it pulls in streamlit's caches (and logs "No runtime found" outside the app).
    from .serving_file import GUIDANCE, SERVING_ENV, serving_path

    serving = serving_path(store).resolve()
    env = {**os.environ, SERVING_ENV: str(serving)}
    console.print(f"[bold]KPI Bridge dashboard[/] on http://{host}:{port}, reading {serving} (read-only)")
    if not serving.exists():
        console.print(f"[yellow]No serving database yet.[/] Run [bold]{GUIDANCE}[/]; the page says so too.")
    console.print("Press Ctrl+C to stop.")
    command = streamlit_command(port, host, open_browser)
    if open_browser:
        _open_when_up(host, port)
    if os.name == "posix":
        # Become the server (same process id), so whoever started `kpi dashboard` can stop it by PID,
        # and the app starts in a fresh interpreter with Streamlit's runtime in charge of caching.
        sys.stdout.flush()
        sys.stderr.flush()
        os.execvpe(command[0], command, env)
    return subprocess.call(command, env=env)


def _open_when_up(host: str, port: int) -> None:
    """Open the dashboard in a browser once the server answers, from a helper process (we exec the server)."""
    url = f"http://{'localhost' if host in ('0.0.0.0', '::') else host}:{port}"
    code = (
        "import sys, time, urllib.request, webbrowser\n"
        "for _ in range(120):\n"
        "    try:\n"
        "        urllib.request.urlopen(sys.argv[1] + '/_stcore/health', timeout=1); break\n"
        "    except Exception: time.sleep(0.5)\n"
        "webbrowser.open(sys.argv[1])\n"
    )
    subprocess.Popen(
        [sys.executable, "-c", code, url],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def register(app: typer.Typer) -> None:
    """Add the dashboard's commands to the `kpi` app."""

    @app.command()
    def dashboard(
        db: Path | None = typer.Option(
            None, "--db", help="The warehouse (store) file; the serving copy beside it is what is read."
        ),
        port: int = typer.Option(DEFAULT_PORT, "--port", help="Port to serve on."),
        host: str = typer.Option(
            "localhost", "--host", help="Address to bind; 0.0.0.0 shares it on your network."
        ),
        open_browser: bool = typer.Option(True, "--open/--no-open", help="Open a browser tab."),
    ) -> None:
        """Start the Streamlit dashboard on the serving database, read-only (never blocks a load or refresh)."""
        raise typer.Exit(serve(resolve_db(db), port, host, open_browser))
