"""`kpi alerts`: report (and send) what needs attention; exit 1 when there is something to report."""

from __future__ import annotations

import datetime as dt
import enum
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from warehouse.project_config import DEFAULT_KPIS_DIR, project_section
from warehouse.serving_contract import resolve_db

if TYPE_CHECKING:
    from .evaluate import KpiAlert

# The serving reads (pandas, DuckDB, Streamlit's cache) are imported inside the command: `kpi --help` starts
# without them (tests/test_cli_startup.py).

err = Console(stderr=True, highlight=False, soft_wrap=True)


class AlertFormat(enum.StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


def alerts_command(
    format: AlertFormat = typer.Option(AlertFormat.text, "--format", help="text, json or markdown."),
    since: dt.datetime | None = typer.Option(
        None, "--since", formats=["%Y-%m-%d"],
        help="Only conditions that started on or after this day (YYYY-MM-DD)."),
    state: Path | None = typer.Option(
        None, "--state", help="State file: conditions already sent are not sent again while they last "
        "(default: `state` in kpibridge.toml's \\[alerts], else none)."),
    webhook: str | None = typer.Option(None, "--webhook", help="Send to this Slack-compatible incoming webhook URL."),
    email: list[str] = typer.Option([], "--email", help="Send an e-mail to this address (repeat for more); "
                                    "the server is \\[alerts.email] in kpibridge.toml."),
    window: int | None = typer.Option(None, "--window", min=1, help="Days judged (default 7, before the "
                                      "3 provisional days), against as many days before them."),
    today: dt.datetime | None = typer.Option(None, "--today", formats=["%Y-%m-%d"],
                                             help="Judge lateness as of this day (default: today)."),
    db: Path | None = typer.Option(None, "--db", help="Warehouse file (default .kpibridge/warehouse.duckdb or "
                                   "$KPIBRIDGE_DB); alerts read the serving copy beside it."),
    kpis: Path = typer.Option(DEFAULT_KPIS_DIR, "--kpis", help="KPI folder; kpibridge.toml is read beside it."),
) -> None:
    """What needs attention: status, changes against the previous days, data health, late data.

    Exit 1 when there is something to report (for cron and CI), 0 when all is quiet.
    """
    from warehouse.periods import PROVISIONAL_DAYS

    from ..serving_file import serving_path
    from .deliver import send_email, send_webhook
    from .evaluate import ONSET_LOOKBACK_DAYS, evaluate, windows
    from .render import to_json, to_markdown, to_text
    from .settings import SettingsError, from_config
    from .snapshot import NoServingData, read_snapshot
    from .state import StateError, load_state, new_conditions, save_state

    try:
        settings = from_config(project_section("alerts", kpis))
    except SettingsError as error:
        err.print(f"[red]{escape(str(error))}[/]")
        raise typer.Exit(2) from None
    overrides: dict[str, object] = {}
    if window is not None:
        overrides["window_days"] = window
    if webhook:
        overrides["webhook"] = webhook
    if email:
        overrides["email_to"] = tuple(email)
    if state is not None:
        overrides["state"] = state
    settings = replace(settings, **overrides)  # type: ignore[arg-type]
    day = today.date() if today else dt.date.today()
    history = 2 * settings.window_days + PROVISIONAL_DAYS + ONSET_LOOKBACK_DAYS + 1
    try:
        snapshot = read_snapshot(serving_path(resolve_db(db)), history)
        sent = load_state(settings.state)
    except (NoServingData, StateError) as error:
        err.print(f"[red]{escape(str(error))}[/]")
        raise typer.Exit(1) from None

    current = evaluate(snapshot, settings, day)
    keys = {key: reason.text for alert in current for key, reason in alert.keys().items()}
    fresh = new_conditions(keys, sent)
    report = _keep(current, fresh, since.date() if since else None)
    window_end = windows(snapshot.data_end, settings.window_days)[0].end

    failures = []
    if report:
        if settings.webhook:
            failures += _attempt("webhook", lambda: send_webhook(settings.webhook, report))
        if settings.email_to:
            failures += _attempt("e-mail", lambda: send_email(report, settings, settings.email_to))
    delivered = bool(report) and not failures and bool(settings.webhook or settings.email_to)
    if format is AlertFormat.json:
        sys.stdout.write(to_json(report, day, window_end, delivered))
    elif format is AlertFormat.markdown:
        sys.stdout.write(to_markdown(report))
    else:
        Console(highlight=False, soft_wrap=True).print(to_text(report), markup=False, end="")
        if current and not report:
            err.print(f"[dim]{len(keys)} condition(s) hold, all already sent (state file {settings.state}).[/]")
    if settings.state is not None and not failures:
        save_state(settings.state, keys, sent)
    if failures:
        err.print("[red]Not everything was sent; the state file was left as it was, so the next run tries again.[/]")
    raise typer.Exit(1 if report else 0)


def _keep(alerts: list[KpiAlert], fresh: set[str], since: dt.date | None) -> list[KpiAlert]:
    """Only the conditions not sent before and (with --since) started on or after that day."""
    out = []
    for alert in alerts:
        reasons = tuple(r for key, r in alert.keys().items()
                        if key in fresh and (since is None or r.since is None or r.since >= since))
        if reasons:
            out.append(alert.with_reasons(reasons))
    return out


def _attempt(what: str, send) -> list[str]:
    from .deliver import DeliveryError

    try:
        send()
    except DeliveryError as error:
        err.print(f"[red]The {what} was not sent: {escape(str(error))}[/]")
        return [what]
    err.print(f"[green]✓[/] Sent by {what}.")
    return []


def register(app: typer.Typer) -> None:
    app.command("alerts")(alerts_command)
