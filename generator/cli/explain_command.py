"""`kpi explain KPI_ID`."""

from __future__ import annotations

import enum
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from ..issues import did_you_mean
from .compile_or_exit import compiled_or_exit

if TYPE_CHECKING:
    from .explain import Explanation


class ExplainFormat(enum.StrEnum):
    text = "text"
    json = "json"


def explain_command(
    kpi_id: str = typer.Argument(..., help="The KPI's id (the `kpi:` line of its file)."),
    kpis: Path = typer.Option(Path("kpis"), "--kpis", help="Folder of KPI files."),
    dialect: str | None = typer.Option(None, "--sql", help="Also show the SQL of one dialect: duckdb or bigquery."),
    requests: bool = typer.Option(False, "--requests", help="Also show its GA4 Data API request(s)."),
    show_all: bool = typer.Option(False, "--all", help="Also show the GA4 requests and the SQL of both dialects."),
    format: ExplainFormat = typer.Option(ExplainFormat.text, "--format", help="Output format (json has everything)."),
) -> None:
    """A KPI in plain words and the events it needs; its GA4 request(s) and SQL with --requests, --sql, --all."""
    from .explain import explain_kpi

    err = Console(stderr=True)
    compiled = compiled_or_exit(kpis, "Nothing to explain", missing_exit=2)
    catalog = compiled.catalog
    if kpi_id not in compiled.plan.kpis:
        known = sorted(catalog.kpis)
        why = (f"`{kpi_id}` is not active (status: {catalog.kpis[kpi_id].kpi.status})."
               if kpi_id in catalog.kpis else f"There is no KPI `{kpi_id}`.{did_you_mean(kpi_id, known)}")
        err.print(f"[red]{escape(why)}[/]")
        raise typer.Exit(1)
    ex = explain_kpi(compiled, kpi_id)
    if dialect is not None and dialect not in ex.sql:
        err.print(f"[red]Unknown SQL dialect `{escape(dialect)}`.{did_you_mean(dialect, ex.sql)}[/] Use duckdb or bigquery.")
        raise typer.Exit(2)
    if format is ExplainFormat.json:
        sys.stdout.write(json.dumps(ex.to_dict(), indent=2, ensure_ascii=False) + "\n")
        return
    _print(ex, Console(), dialect, requests or show_all, show_all)


def _print(ex: Explanation, out: Console, dialect: str | None, requests: bool, all_sql: bool) -> None:
    out.print(f"[bold]{escape(ex.title)}[/]  [dim]({ex.kpi_id}, {escape(ex.source_file)})[/]")
    out.print(escape(ex.plain_words))
    out.print(f"Owner: {escape(ex.owner)} · team {escape(ex.team)} · objective: {escape(ex.objective)} · "
              f"target: {escape(ex.target)}")
    out.print()
    out.print("[bold]Events it needs[/]")
    for e in ex.events:
        params = f" — reads {', '.join(e.params)}" if e.params else ""
        required = f" (requires {', '.join(e.required)})" if e.required else ""
        out.print(f"  • [cyan]{e.event}[/]{escape(params)}{escape(required)}")
        if e.trigger:
            out.print(f"    [dim]fires: {escape(e.trigger)}[/]")
    if not ex.events:
        out.print("  [dim]none directly (computed from other KPIs)[/]")
    out.print()
    if not ex.api_expressible:
        out.print(f"[bold]GA4 Data API:[/] [yellow]not used[/]: {escape(ex.api_reason or '')}.")
    if not (requests or all_sql or dialect):
        out.print("[dim]Its GA4 Data API request(s): --requests; its SQL: --sql duckdb or --sql bigquery; "
                  "everything: --all (or --format json).[/]")
        return
    # imported here: it imports pygments (25 ms), which every other `kpi` command is spared
    from rich.syntax import Syntax

    if ex.api_expressible and requests:
        if ex.api_requests:
            body = json.dumps(ex.api_requests, indent=2)
            out.print(Panel(Syntax(body, "json", word_wrap=True), title="GA4 Data API (RunReportRequest)",
                            title_align="left"))
        else:
            out.print("[bold]GA4 Data API:[/] computed from the component KPIs' report rows.")
    for name, sql in ex.sql.items():
        if all_sql or dialect == name:
            out.print(Panel(Syntax(sql, "sql", word_wrap=True), title=f"SQL ({name})", title_align="left"))


def register(app: typer.Typer) -> None:
    app.command("explain")(explain_command)
