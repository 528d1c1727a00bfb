"""`kpi demo`: from a fresh install to a live dashboard in one command.

It runs the same commands a user would, in order: load the demo property, validate the KPI files,
generate the spec and the queries, refresh the KPIs, then serve the dashboard.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from dashboards.cli import DEFAULT_PORT, serve
from generator.cli.commands import generate
from generator.cli.compile_or_exit import compiled_or_exit
from generator.cli.report_formats import summary_line
from warehouse.cli import SummaryFormat, load_demo_command
from warehouse.cli_kpis import SummaryFormat as RefreshFormat
from warehouse.cli_kpis import refresh

from .config import DEFAULT_BUILD_DIR, DEFAULT_KPIS_DIR, resolve_db

STEPS = 5


def demo_command(
    serve_dashboard: bool = typer.Option(True, "--serve/--no-serve",
                                         help="Start the dashboard at the end (--no-serve stops before, for CI)."),
    events: int = typer.Option(200_000, "--events", min=1, help="Demo events in total."),
    days: int = typer.Option(90, "--days", min=1, help="Days of demo data, ending yesterday."),
    seed: int = typer.Option(42, "--seed", help="Same seed, same data."),
    kpis: Path = typer.Option(DEFAULT_KPIS_DIR, "--kpis", help="Folder of KPI files."),
    out: Path = typer.Option(DEFAULT_BUILD_DIR, "--out", help="Where the spec and queries are written."),
    db: Path | None = typer.Option(None, "--db", help="Warehouse file (default .kpibridge/warehouse.duckdb)."),
    port: int = typer.Option(DEFAULT_PORT, "--port", help="Dashboard port."),
    open_browser: bool = typer.Option(False, "--open/--no-open", help="Open a browser tab for the dashboard."),
) -> None:
    """Load the demo property, validate, generate the spec and queries, refresh, and start the dashboard."""
    console = Console(highlight=False)
    store = resolve_db(db)
    if not kpis.is_dir():
        console.print(f"[red]No KPI folder at {kpis}.[/] Run `kpi demo` in the KPI Bridge checkout "
                      "(it ships example KPIs in kpis/), or pass --kpis DIR.")
        raise typer.Exit(1)

    _step(console, 1, "Loading the demo GA4 property (a synthetic online shop)")
    load_demo_command(events=events, days=days, seed=seed, end_date=None, db=store, format=SummaryFormat.text,
                      kpis=kpis)

    _step(console, 2, f"Validating the KPI files in {kpis}/")
    # compiled once for the steps below, from the bytes hashed for the record of what a later `kpi refresh`
    # with nothing new prints (`warehouse/settled.py`): the first one after the demo is answered from it
    from warehouse.settled import inputs_digest  # with DuckDB: not for `kpi --help`

    inputs, sources = inputs_digest(kpis, store)
    compiled = compiled_or_exit(kpis, "The demo stopped", console=console, sources=sources)
    console.print(summary_line(compiled.report))

    _step(console, 3, f"Generating the tracking spec and the queries into {out}/")
    generate(compiled, kpis, out, check=False)

    _step(console, 4, "Computing every KPI into the warehouse")
    refresh(compiled, store, full=False, format=RefreshFormat.text, inputs=inputs)

    console.print()
    console.print(f"  Spec for IT:     {out}/spec/index.html")
    console.print(f"  Queries:         {out}/queries/")
    console.print(f"  Warehouse:       {store}")
    console.print("  Numbers:         kpi values --kpi session_conversion_rate")
    if not serve_dashboard:
        console.print(f"  Dashboard:       kpi dashboard --port {port}   (skipped: --no-serve)")
        return
    _step(console, 5, f"Starting the dashboard on http://localhost:{port}")
    raise typer.Exit(serve(store, port, "localhost", open_browser))


def _step(console: Console, n: int, text: str) -> None:
    console.print(f"\n[bold cyan]{n}/{STEPS}[/] [bold]{text}[/]")


def register(app: typer.Typer) -> None:
    """Add `kpi demo` to the `kpi` app."""
    app.command("demo")(demo_command)
