"""The `kpi` command: a thin shell that composes each stage's own commands.

Every module imported here is light (typer, rich, the commands' signatures): each command imports what it
works with (DuckDB, pandas, pyarrow, Streamlit, Google's clients, the KPI models) in its body, so `kpi --help`
and `kpi validate` start fast (tests/test_cli_startup.py).
"""

from __future__ import annotations

import typer

from dashboards import cli as dashboards_cli
from dashboards.alerts import cli as alerts_cli
from editor import cli as editor_cli
from ga4admin import cli as ga4admin_cli
from generator.cli import commands as generator_cli
from generator.cli import explain_command as cli_explain
from warehouse import cli as warehouse_cli
from warehouse import cli_ga4, cli_kpis, cli_prune, cli_values

from . import demo

app = typer.Typer(
    name="kpi",
    help="KPI Bridge: KPI files as the contract between marketing and IT.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
load_app = typer.Typer(help="Load GA4 data into the warehouse.", no_args_is_help=True)
app.add_typer(load_app, name="load")

generator_cli.register(app, cli_values.findings_for_validate)
cli_explain.register(app)
warehouse_cli.register(app, load_app)
cli_ga4.register(app, load_app)
cli_kpis.register(app)
app.command("prune")(cli_prune.prune_command)
dashboards_cli.register(app)
editor_cli.register(app)
ga4admin_cli.register(app)
alerts_cli.register(app)
demo.register(app)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            installed = version("kpibridge")
        except PackageNotFoundError:  # run from a checkout that was never installed
            installed = "unknown (not installed: pip install -e .)"
        typer.echo(f"kpi (KPI Bridge) {installed}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the installed version and exit."),
) -> None:
    """KPI Bridge: KPI files as the contract between marketing and IT."""


def main() -> None:
    app()
