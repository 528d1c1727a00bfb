"""`kpi validate`, `kpi schema`, `kpi generate`, `kpi diff`, `kpi check-events`, `kpi explain`."""

from __future__ import annotations

import enum
import sys
from pathlib import Path

import typer
from rich.console import Console

from .report_formats import print_text, to_github, to_json, to_sarif
from .rules import ALL_RULES
from .validate import validate_paths


class ReportFormat(enum.StrEnum):
    text = "text"
    json = "json"
    github = "github"
    sarif = "sarif"


def validate_command(
    paths: list[Path] = typer.Argument(None, help="KPI files or folders (default: kpis/)."),
    format: ReportFormat = typer.Option(ReportFormat.text, "--format", "-f", help="Output format."),
    strict: bool = typer.Option(False, "--strict", help="Treat warnings as errors."),
) -> None:
    """Check KPI files and the events catalog: every problem at once, each with file:line and a fix."""
    targets = paths or [Path("kpis")]
    missing = [p for p in targets if not p.exists()]
    if missing:
        Console(stderr=True).print(f"[red]No such file or folder: {', '.join(map(str, missing))}[/]. "
                                   "Run `kpi validate` in your project folder, or pass the path to kpis/.")
        raise typer.Exit(2)
    result = validate_paths(targets)
    report = result.report
    if format is ReportFormat.json:
        sys.stdout.write(to_json(report) + "\n")
    elif format is ReportFormat.github:
        sys.stdout.write(to_github(report) + "\n")
    elif format is ReportFormat.sarif:
        sys.stdout.write(to_sarif(report, {r.code: r.title for r in ALL_RULES}) + "\n")
    else:
        print_text(report, Console())
    raise typer.Exit(1 if report.has_errors(strict) else 0)


def register(app: typer.Typer) -> None:
    """Add the generator's commands to the `kpi` app."""
    app.command("validate")(validate_command)
