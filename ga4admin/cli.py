"""`kpi apply`: show what the GA4 property lacks (and has in excess) for the KPIs, and with --yes register it."""

from __future__ import annotations

import enum
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from generator.cli.compile_or_exit import compiled_or_exit
from warehouse.project_config import CONFIG_FILE, DEFAULT_KPIS_DIR, load_project_config

if TYPE_CHECKING:
    from .plan import AdminPlan

# Google's Admin API client and the spec are imported inside the command: `kpi --help` starts without them
# (tests/test_cli_startup.py).

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)


class PlanFormat(enum.StrEnum):
    text = "text"
    json = "json"


def apply_command(
    yes: bool = typer.Option(False, "--yes", "-y", help="Make the changes (without it, only the plan is shown)."),
    archive: bool = typer.Option(False, "--archive", help="Also archive custom definitions and delete key events no KPI needs."),
    property_: str | None = typer.Option(None, "--property", help="GA4 property id (default: [ga4] property in kpibridge.toml)."),
    endpoint: str | None = typer.Option(None, "--endpoint", help="HOST:PORT of another Admin API server (a proxy, a local fake)."),
    insecure: bool = typer.Option(False, "--insecure", help="Plaintext gRPC to --endpoint, without credentials."),
    kpis: Path = typer.Option(DEFAULT_KPIS_DIR, "--kpis", help="Folder of KPI files."),
    format: PlanFormat = typer.Option(PlanFormat.text, "--format", "-f", help="Plan format."),
    timeout: float = typer.Option(60.0, "--timeout", min=0.01, help="Seconds to wait for one GA4 answer."),
) -> None:
    """Register the custom dimensions, custom metrics and key events the KPIs need in a GA4 property."""
    from google.api_core import exceptions as gexc

    from generator.spec.model import build_spec
    from warehouse.sources.ga4_api import normalize_property
    from warehouse.sources.ga4_client import CredentialsProblem
    from warehouse.sources.ga4_errors import ApiLoadError

    from .apply import apply_plan
    from .client import connect_admin, read_property
    from .errors import AdminError, explain
    from .plan import make_plan
    from .wanted import wanted_definitions

    config = load_project_config(kpis)
    try:
        prop = normalize_property(property_ or config.ga4_property or _no_property())
    except ApiLoadError as exc:
        _fail(str(exc), code=2)
    compiled = compiled_or_exit(kpis, "Nothing was changed in GA4", missing_exit=2)
    wanted = wanted_definitions(build_spec(compiled.catalog))
    try:
        conn = connect_admin(endpoint or config.ga4_endpoint, insecure)
    except CredentialsProblem as exc:
        _fail(str(exc))
    try:
        try:
            existing = read_property(conn, prop, timeout)
        except gexc.GoogleAPICallError as exc:
            _fail(explain(exc, conn.account, prop, "reading its custom definitions and key events", conn.endpoint))
        plan = make_plan(prop, wanted, existing, archive)
        if format is PlanFormat.json:
            sys.stdout.write(json.dumps(plan.as_json(), indent=2) + "\n")
        else:
            _print_plan(plan)
        if plan.over_quota:
            q = plan.over_quota[0]
            _fail(f"After this plan {prop} would have {q.after} {q.label}, over GA4's limit of {q.limit}: remove "
                  "KPIs or params that need them, or free slots with --archive.")
        if not plan.changes:
            err.print(f"[green]✓[/] {prop} has everything the KPIs need: nothing to change.")
            return
        if not yes:
            err.print(f"Nothing was changed. Run `kpi apply --yes` to make {_these(len(plan.changes))}.")
            return
        try:
            applied = apply_plan(conn, plan, timeout, say=lambda text: err.print(escape(text)))
        except AdminError as exc:
            _fail(str(exc))
        n = len(applied.done)
        err.print(f"[green]✓[/] {n} change{'s' if n != 1 else ''} made in {prop}.")
    finally:
        conn.close()


def _print_plan(plan: AdminPlan) -> None:
    from .plan import ARCHIVE, CREATE, KEEP, UNCHANGED

    signs = {CREATE: "[green]+ create[/]", ARCHIVE: "[red]- archive[/]", UNCHANGED: "[dim]= unchanged[/]",
             KEEP: "[yellow]~ keep[/]"}
    out.print(f"GA4 Admin plan for {plan.property}:")
    for step in plan.steps:
        d = step.definition
        behind = f" for {', '.join(d.kpis)}" if d.kpis else ""
        note = f" ({step.note})" if step.note else ""
        out.print(f"  {signs[step.action]} {escape(d.label)}{escape(behind)}{escape(note)}")
    if not plan.steps:
        out.print("  (the KPIs need no custom definitions or key events, and the property has none)")
    counts = ", ".join(f"{len(plan.of(a))} to {a}" for a in (CREATE, ARCHIVE) if plan.of(a))
    out.print(f"Changes: {counts or 'none'}; {len(plan.of(UNCHANGED))} unchanged.")
    if plan.quotas:
        out.print("Quota after it: " + "; ".join(
            (f"[red]{escape(q.text)} (over the limit)[/]" if q.over else escape(q.text)) for q in plan.quotas))


def _these(n: int) -> str:
    return "this change" if n == 1 else f"these {n} changes"


def _no_property() -> NoReturn:
    from warehouse.sources.ga4_errors import ApiLoadError

    raise ApiLoadError(f"No GA4 property given: pass --property 123456789, or add `[ga4]` with "
                       f"`property = \"123456789\"` to {CONFIG_FILE} beside your kpis/ folder.")


def _fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[red]Error:[/] {escape(message)}")
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command("apply")(apply_command)
