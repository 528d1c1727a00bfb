"""`kpi load ga4-api` (a GA4 property through the Data API) and `kpi reconcile` (export against Data API)."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from generator.cli.compile_or_exit import compiled_or_exit

from .cli_options import DB_OPTION, FORMAT_OPTION, SummaryFormat
from .clock import utc_now
from .location import resolve_db, serving_path
from .project_config import CONFIG_FILE, DEFAULT_KPIS_DIR, load_project_config
from .reconcile import DEFAULT_TOLERANCE
from .sources.ga4_defaults import DEFAULT_ATTEMPTS, DEFAULT_MAX_WAIT

if TYPE_CHECKING:
    from .ga4_rows import ApiLoadSummary
    from .reconcile import Reconciliation
    from .sources.ga4_api import FetchedReports

# Google's Data API client and DuckDB are imported inside the commands: `kpi --help` and `kpi validate` start
# without them (tests/test_cli_startup.py).

err = Console(stderr=True, highlight=False, soft_wrap=True)


QUOTA_LABELS = {"tokens_per_day": "tokens today", "tokens_per_hour": "tokens this hour",
                "tokens_per_project_per_hour": "tokens this hour (this project)",
                "concurrent_requests": "concurrent requests",
                "server_errors_per_project_per_hour": "server errors this hour",
                "potentially_thresholded_requests_per_hour": "thresholded requests this hour"}


def load_ga4_api_command(
    property_: str | None = typer.Option(None, "--property", help="GA4 property id (default: [ga4] property in kpibridge.toml)."),
    start: str = typer.Option("28daysAgo", "--start", help="First day: YYYY-MM-DD, NdaysAgo, yesterday or today."),
    end: str = typer.Option("yesterday", "--end", help="Last day, in the same forms."),
    endpoint: str | None = typer.Option(None, "--endpoint", help="HOST:PORT of another Data API server (a proxy, a local fake)."),
    insecure: bool = typer.Option(False, "--insecure", help="Plaintext gRPC to --endpoint, without credentials."),
    kpis: Path = typer.Option(DEFAULT_KPIS_DIR, "--kpis", help="Folder of KPI files."),
    db: Path | None = DB_OPTION,
    format: SummaryFormat = FORMAT_OPTION,
    timeout: float = typer.Option(60.0, "--timeout", min=0.01, help="Seconds to wait for one GA4 answer."),
    retries: int = typer.Option(DEFAULT_ATTEMPTS - 1, "--retries", min=0, help="Retries of a transient error."),
    max_wait: float = typer.Option(DEFAULT_MAX_WAIT, "--max-wait", min=0.0, help="Cap on one wait between retries, seconds."),
) -> None:
    """Run the KPIs' Data API requests against a GA4 property; its report rows replace the date range's rows."""
    from .sources.ga4_api import ReportFetcher, check_date, check_range, normalize_property, unreachable_kpis
    from .sources.ga4_client import CredentialsProblem, connect_ga4
    from .sources.ga4_errors import ApiLoadError
    from .sources.ga4_retry import RetryPolicy

    started_at = utc_now()
    clock = time.perf_counter()
    config = load_project_config(kpis)
    try:
        prop = normalize_property(property_ or config.ga4_property or _no_property())
        start, end = check_date(start, "--start"), check_date(end, "--end")
        check_range(start, end)
    except ApiLoadError as exc:
        _fail(str(exc), code=2)
    compiled = compiled_or_exit(kpis, "Nothing was loaded")
    plan, api = compiled.plan, compiled.api_plan
    skipped = unreachable_kpis(plan, api)
    for kid, reason in skipped.items():
        err.print(f"[dim]Skipped {escape(kid)}: {escape(reason)}.[/]")
    if not api.requests:
        _fail("None of the KPIs can be computed through the Data API (see above); load the BigQuery export "
              "instead (`kpi load ga4-export`).")
    path = resolve_db(db)
    _check_store(path)
    try:
        conn = connect_ga4(endpoint or config.ga4_endpoint, insecure)
    except CredentialsProblem as exc:
        _fail(str(exc))
    err.print(f"Running {len(api.requests)} requests in {len(api.batches())} batches against {prop} "
              f"({start} to {end}).")
    fetcher = ReportFetcher(api, prop, start, end, conn, policy=RetryPolicy(retries + 1, max_wait),
                            timeout=timeout, say=lambda text: err.print(escape(text)))
    try:
        fetched = fetcher.fetch()
    except ApiLoadError as exc:
        _record_failure(path, started_at, "failed", str(exc))
        _fail(f"{exc}\nNothing was loaded; the warehouse is as it was.")
    except KeyboardInterrupt:
        _record_failure(path, started_at, "interrupted", "interrupted while reading GA4")
        _fail("Interrupted: nothing was loaded; the warehouse is as it was.", code=130)
    finally:
        conn.client.transport.close()
    summary = _store(path, fetched, started_at, time.perf_counter() - clock)
    _print_load_summary(summary, path, skipped, format)


def _no_property() -> NoReturn:
    from .sources.ga4_errors import ApiLoadError

    raise ApiLoadError(f"No GA4 property given: pass --property 123456789, or add `[ga4]` with "
                       f"`property = \"123456789\"` to {CONFIG_FILE} beside your kpis/ folder.")


def _check_store(path: Path) -> None:
    """Open (and migrate) the store before spending quota, so a locked or foreign file fails first."""
    from .connection import StoreError, connect_store

    try:
        connect_store(path).close()
    except StoreError as exc:
        _fail(str(exc))


def _store(path: Path, fetched: FetchedReports, started_at: dt.datetime, seconds: float) -> ApiLoadSummary:
    import duckdb

    from .connection import StoreError, connect_store
    from .ga4_rows import record_failed_load, store_reports

    try:
        con = connect_store(path)
    except StoreError as exc:
        _fail(f"{exc} Nothing was loaded.")
    try:
        return store_reports(con, fetched, started_at, seconds)
    except duckdb.Error as exc:
        reason = str(exc).strip().splitlines()[0]
        record_failed_load(con, started_at, "failed", reason)
        _fail(f"The warehouse {path} could not be written ({reason}). Nothing was loaded.")
    finally:
        con.close()


def _record_failure(path: Path, started_at: dt.datetime, outcome: str, message: str) -> None:
    from .connection import StoreError, connect_store
    from .ga4_rows import record_failed_load

    try:
        con = connect_store(path, timeout=5)
    except StoreError:
        return
    try:
        record_failed_load(con, started_at, outcome, message)
    finally:
        con.close()


def _print_load_summary(summary: ApiLoadSummary, path: Path, skipped: dict[str, str],
                        format: SummaryFormat) -> None:
    if format is SummaryFormat.json:
        sys.stdout.write(json.dumps({**summary.as_dict(), "db": str(path), "skipped": skipped}) + "\n")
        return
    out = Console(highlight=False, soft_wrap=True)
    replaced = f"; replaced {summary.replaced_rows:,} rows" if summary.replaced_rows else ""
    out.print(f"Loaded {summary.rows:,} report rows from {summary.requests} requests ({summary.batches} batches, "
              f"{summary.calls} calls) of {summary.property}, {summary.start_date} to {summary.end_date}, into "
              f"{escape(str(path))} in {summary.seconds:.1f} s (load {summary.load_id}{replaced}).")
    flagged = [f"{n} {label}" for label, n in (("as thresholded", summary.caveats["thresholded"]),
                                               ("as sampled", summary.caveats["sampled"]),
                                               ("with (other) rows", summary.caveats["other_row"])) if n]
    if flagged:
        out.print(f"[yellow]GA4 flagged reports {', '.join(flagged)} of {summary.requests}: the KPIs computed "
                  "from them are estimates.[/]")
    if summary.other_properties:
        out.print(f"[yellow]The warehouse also holds Data API rows of {', '.join(summary.other_properties)} "
                  "for other days.[/]")
    if summary.quota:
        parts = [f"{label} {summary.quota[k]['consumed']:,} used, {summary.quota[k]['remaining']:,} left"
                 for k, label in QUOTA_LABELS.items() if k in summary.quota]
        out.print(f"Property quota: {'; '.join(parts)}.")
    for rid, why in summary.skipped_requests.items():
        out.print(f"[yellow]Not loaded: request {escape(rid)}: {escape(why)}[/]")
    if summary.skipped_requests:
        out.print(f"[yellow]{len(summary.skipped_requests)} requests were skipped (above); register what they need "
                  "in GA4 Admin, then load again to fill them in.[/]")
    out.print("Next: `kpi refresh` computes the KPIs from these rows.")


def reconcile_command(
    tolerance: float = typer.Option(DEFAULT_TOLERANCE, "--tolerance", min=0.0, help="Largest relative difference accepted (0.05 = 5%)."),
    kpi: str | None = typer.Option(None, "--kpi", help="Only this KPI."),
    db: Path | None = DB_OPTION,
    format: SummaryFormat = FORMAT_OPTION,
) -> None:
    """Compare each KPI's daily totals from the export and from the Data API; exit 1 past the tolerance."""
    from .reading import read_serving
    from .reconcile import RECONCILE_SQL, reconcile

    path = serving_path(resolve_db(db))
    try:
        rows, _columns = read_serving(path, RECONCILE_SQL, {"kpi": kpi})
    except FileNotFoundError:
        _fail(f"No computed KPIs at {path} yet: load data and run `kpi refresh` first.")
    if kpi is not None and not rows:
        known = [str(r[0]) for r in read_serving(path, "SELECT kpi_id FROM kpi_definitions ORDER BY 1")[0]]
        if kpi not in known:
            from generator.issues import did_you_mean

            _fail(f"No KPI `{kpi}` in the warehouse.{did_you_mean(kpi, known)}")
    result = reconcile(rows, tolerance)  # type: ignore[arg-type]
    if format is SummaryFormat.json:
        sys.stdout.write(json.dumps(result.as_dict(), default=str) + "\n")
    else:
        _print_reconciliation(result)
    if result.past:
        raise typer.Exit(1)


def _print_reconciliation(result: Reconciliation) -> None:
    from rich.table import Table

    out = Console(highlight=False, soft_wrap=True)
    if not result.comparisons:
        out.print("Nothing to compare: no KPI has values from both the export and the Data API for the same day. "
                  "Load both (`kpi load ga4-export …`, `kpi load ga4-api …`), then `kpi refresh`.")
        return
    table = Table("KPI", "days", "past tolerance", "largest difference", "on")
    for s in result.per_kpi():
        table.add_row(s.kpi_id, str(s.days), str(s.past), f"{s.worst.difference:.1%}", s.worst.date.isoformat())
    out.print(table)
    for c in result.past[:20]:
        out.print(f"  {c.kpi_id} on {c.date}: export {c.export:,.4g}, Data API {c.api:,.4g} ({c.difference:.1%})")
    if len(result.past) > 20:
        out.print(f"  … and {len(result.past) - 20} more (use --format json for all).")
    out.print(result.line())


def register(app: typer.Typer, load_app: typer.Typer) -> None:
    """Add `kpi load ga4-api` and `kpi reconcile`."""
    load_app.command("ga4-api")(load_ga4_api_command)
    app.command("reconcile")(reconcile_command)



def _fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[red]Error:[/] {escape(message)}")
    raise typer.Exit(code)
