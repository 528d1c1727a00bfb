"""`kpi refresh`, `kpi values`, `kpi status`: compute KPIs into the warehouse and read them back."""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape

from generator.cli.compile_or_exit import compiled_or_exit

from . import pending
from .cli_findings import FailOn, console_for_tables, explain_no_values, status_failures
from .cli_options import DB_OPTION, KPIS_OPTION, SummaryFormat
from .location import resolve_db, serving_path

if TYPE_CHECKING:
    import duckdb

    from generator.compile import Compiled
    from generator.issues import Issue

    from .refresh import RefreshSummary

# The refresh, DuckDB and the serving reads are imported inside the commands, so that `kpi --help` and
# `kpi validate` start without them (tests/test_cli_startup.py).

err = Console(stderr=True)



class OutputFormat(enum.StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


class Grain(enum.StrEnum):
    day = "day"
    week = "week"
    month = "month"
    period = "period"


class Engine(enum.StrEnum):
    duckdb = "duckdb"
    bigquery = "bigquery"


def refresh_command(
    db: Path | None = DB_OPTION,
    kpis: Path = KPIS_OPTION,
    full: bool = typer.Option(False, "--full", help="Recompute every day of every KPI."),
    format: SummaryFormat = typer.Option(SummaryFormat.text, "--format", help="Summary format."),
    engine: Engine = typer.Option(Engine.duckdb, "--engine", help="Where the KPIs are computed: duckdb (this "
                                  "warehouse's events) or bigquery (GA4's export in BigQuery)."),
    project: str | None = typer.Option(None, "--project", help="BigQuery: the export's project (default: kpibridge.toml)."),
    dataset: str | None = typer.Option(None, "--dataset", help="BigQuery: the export dataset, analytics_<property>."),
    location: str | None = typer.Option(None, "--location", help="BigQuery: the dataset's location (e.g. EU)."),
    max_bytes_billed: int | None = typer.Option(None, "--max-bytes-billed", min=1,
                                                help="BigQuery: no query may bill more bytes (default 10 GiB)."),
    credentials: Path | None = typer.Option(None, "--credentials", help="BigQuery: a service-account key file "
                                            "(default: Application Default Credentials)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="BigQuery: print bytes and price, compute nothing."),
    write_table: str | None = typer.Option(None, "--write-table", help="BigQuery: also MERGE the values into "
                                           "DATASET.TABLE, for Looker Studio and other BI tools."),
) -> None:
    """Compute every active KPI per day and breakdown: incremental, idempotent, atomic."""
    store_path = resolve_db(db)
    if engine is Engine.duckdb and (dry_run or any(v is not None for v in (write_table, project, dataset))):
        err.print("[red]--dry-run, --write-table, --project and --dataset are for --engine bigquery.[/]")
        raise typer.Exit(2)
    inputs, sources = None, None
    if engine is Engine.duckdb and not full and kpis.exists():  # before compiling, which compiles what it read
        from .settled import inputs_digest

        inputs, sources = inputs_digest(kpis, store_path)
        if _settled(store_path, inputs, format):
            return
    compiled = compiled_or_exit(kpis, "Nothing was computed", sources=sources)
    if not compiled.plan.kpis:
        _no_kpi(kpis, len(compiled.catalog.kpis))
    if engine is Engine.bigquery:
        from .bigquery.cli import BigQueryOptions, run_bigquery_refresh

        options = BigQueryOptions(project, dataset, location, max_bytes_billed, credentials, dry_run, write_table)
        run_bigquery_refresh(compiled, kpis, store_path, full, options, format is SummaryFormat.json)
        return
    refresh(compiled, store_path, full, format, inputs=inputs)


def _no_kpi(kpis: Path, written: int) -> None:
    """No active KPI to compute (`written`: the KPIs the folder holds, none `status: active`): say so, exit 1."""
    where = escape(str(kpis))
    if written:
        err.print(f"[red]No active KPI in {where}[/]: its {written} KPI{'s' if written != 1 else ''} "
                  f"{'have' if written != 1 else 'has'} another `status:` than `active` (draft, deprecated or "
                  "retired), and only active KPIs are computed. Set `status: active` on those to compute.")
    else:
        err.print(f"[red]No KPI to compute in {where}[/]: found no `*.yaml` file holding a KPI. Write one "
                  "(`kpi edit`, or see kpis/README.md), or pass the folder that holds them with --kpis.")
    raise typer.Exit(1)


def _settled(store_path: Path, inputs: str, format: SummaryFormat) -> bool:
    """True when nothing changed since a refresh found nothing new (`settled.py`): what it printed printed again,
    with DuckDB the only import."""
    import time

    from .settled import settled_output

    clock, cpu = time.perf_counter(), time.process_time()
    output = settled_output(store_path, inputs)
    if output is None:
        return False
    seconds, cpu = round(time.perf_counter() - clock, 3), round(time.process_time() - cpu, 3)
    summary = {**output.summary, "seconds": round(seconds, 2),
               "phases": {"kpis": 0.0, "quality": 0.0, "write": seconds, "kpis_cpu": 0.0, "quality_cpu": 0.0,
                          "write_cpu": cpu, "attribution": 0.0}}
    if format is SummaryFormat.json:
        sys.stdout.write(json.dumps({**summary, "ga4_api": None, "findings": output.findings}) + "\n")
        return True
    from generator.issues import Issue

    from .cli_values import print_findings

    Console(highlight=False, soft_wrap=True).print(escape(output.line))
    print_findings([Issue.from_dict(f) for f in output.findings], Console())
    return True


def _nothing_new(con: duckdb.DuckDBPyConnection, store_path: Path, compiled: Compiled, since: dt.datetime,
                 inputs: str | None, checked: list[Issue] | None) -> tuple[RefreshSummary, list[Issue]]:
    """The refresh when nothing is new since `since` (`nothing_new.keep_unchanged`), with `checked`, the KPI files
    checked against the data (`checked_findings`: None when the checks could not run); with `inputs`
    (`settled.inputs_digest`), recorded for the next refresh to print again (`settled.py`), on this connection: no
    load can commit before it. A refresh that computed runs it too (`_record_next`), so the first refresh with
    nothing new after it prints from the record: 0.74-0.84 -> 0.25 CPU s at 30 and 180 days of history, for
    0.07-0.1 CPU s more in the refresh that computed."""
    from .nothing_new import keep_unchanged

    findings = checked or []
    summary = keep_unchanged(con, store_path, compiled.catalog, compiled.plan, since, findings)
    if inputs is not None and checked is not None:
        from .settled import Printed, record_settled

        record_settled(con, store_path, inputs, Printed(summary.as_dict(), summary.line(),
                                                        [i.to_dict() for i in findings]))
    return summary, findings


def _record_next(con: duckdb.DuckDBPyConnection, store_path: Path, compiled: Compiled, inputs: str,
                 checked: list[Issue]) -> None:
    """After a refresh that computed, what a refresh with nothing new would print, recorded (`_nothing_new`) when
    nothing is new by its own test (`unchanged_since`), with the findings that refresh checked (`checked`); a
    record that cannot be made is only a slower next refresh, never a failed one."""
    import duckdb

    from .nothing_new import unchanged_since

    try:
        since = unchanged_since(con, compiled.plan, compiled.spec_hash, store_path)
        if since is not None:
            _nothing_new(con, store_path, compiled, since, inputs, checked)
    except duckdb.Error:
        pass


def refresh(compiled: Compiled, store_path: Path, full: bool, format: SummaryFormat, inputs: str | None = None) -> None:
    """`kpi refresh` on the embedded warehouse, from KPI files already compiled (`kpi demo` calls it too); with
    `inputs`, the digest of those files and the rest taken before compiling them, a refresh finding nothing new
    records so (`settled.py`)."""
    import duckdb
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .arrow_setup import skip_pandas_probe
    from .cli_values import checked_findings, print_findings
    from .clock import utc_now
    from .connection import StoreError, connect_store
    from .day_tables import provisional_sentence
    from .nothing_new import unchanged_since
    from .refresh import refresh_kpis
    from .refresh_api import refresh_api_kpis
    from .serving import publish_serving

    catalog, plan = compiled.catalog, compiled.plan
    if not store_path.exists():
        err.print(f"[red]There is no warehouse at {store_path} yet.[/] Load data first: "
                  "`kpi load demo` (or `kpi load ga4-export FILES`).")
        raise typer.Exit(1)
    try:
        con = connect_store(store_path)
    except StoreError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    try:
        since = None if full else unchanged_since(con, plan, compiled.spec_hash, store_path)
        if since is not None:  # nothing new: nothing computed; the serving copy published again if behind
            checked = checked_findings(con, catalog, set())  # printed as by any refresh
            summary, findings = _nothing_new(con, store_path, compiled, since, inputs, checked)
    except duckdb.Error as exc:
        con.close()
        err.print(f"[red]The refresh failed and changed nothing: {str(exc).splitlines()[0]}[/]")
        raise typer.Exit(1) from None
    if since is not None:
        con.close()
        if format is SummaryFormat.json:  # ga4_api: nothing recomputed from the Data API's rows either
            sys.stdout.write(json.dumps({**summary.as_dict(), "ga4_api": None,
                                         "findings": [i.to_dict() for i in findings]}) + "\n")
        else:
            Console(highlight=False, soft_wrap=True).print(escape(summary.line()))
            print_findings(findings, Console())
        return
    skip_pandas_probe()  # a refresh builds Arrow tables from Python rows, never from pandas
    try:
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=err, transient=True,
                      disable=format is SummaryFormat.json) as bar:
            task = bar.add_task("computing KPIs", total=None)

            def tick(kpi: str, done: int, total: int) -> None:
                bar.update(task, description=f"computing {kpi}", completed=done, total=total)

            serving = serving_path(store_path)
            refresh_id = pending.mark(serving)  # until the swap, readers know the copy may be behind the store
            pending.kill_point("marked")
            started = utc_now()  # the values this refresh reads with the attribution methods are not read again
            summary = refresh_kpis(con, catalog, plan, full=full, progress=tick, spec=compiled.spec_hash)
            pending.kill_point("store-committed")
            api_summary = refresh_api_kpis(con, plan, api=compiled.api_plan)  # the ga4_api values, from report rows
            pending.kill_point("api-committed")
            bar.update(task, description="checking the KPI files' values against the data")
            checked = checked_findings(con, catalog, {f.kpi_id for f in summary.failed}, again=full,
                                       fresh_since=started)
            findings = checked or []
            bar.update(task, description="publishing the serving copy")
            publish_serving(con, store_path, catalog, plan, refresh_id, findings, api=compiled.api_plan)
            pending.clear(serving, refresh_id)
            if inputs is not None and not summary.failed and checked is not None:  # for the next refresh
                _record_next(con, store_path, compiled, inputs, checked)
    except duckdb.Error as exc:
        err.print(f"[red]The refresh failed and changed nothing: {str(exc).splitlines()[0]}[/]")
        raise typer.Exit(1) from None
    finally:
        con.close()
    if format is SummaryFormat.json:
        sys.stdout.write(json.dumps({**summary.as_dict(), "ga4_api": api_summary.as_dict(),
                                     "findings": [i.to_dict() for i in findings]}) + "\n")
    else:
        Console().print(f"[{'yellow' if summary.failed else 'green'}]{'!' if summary.failed else '✓'}[/] "
                        f"{summary.line()}")
        for line in api_summary.lines():
            Console(highlight=False, soft_wrap=True).print(escape(line))
        provisional = provisional_sentence(summary.provisional)
        if provisional:
            Console(highlight=False, soft_wrap=True).print(f"[yellow]{escape(provisional)}[/]")
        print_findings(findings, Console())
        if summary.attribution.line():
            Console(highlight=False, soft_wrap=True).print(escape(summary.attribution.line() or ""))
    if summary.attribution.warning():  # loud, on stderr, also with --format json
        err.print(f"[yellow]⚠ {escape(summary.attribution.warning() or '')}[/]", highlight=False, soft_wrap=True)
    for line in summary.retried:  # a fast path that failed: the numbers are right, the refresh slower
        err.print(f"[yellow]⚠ {escape(line)}[/]", highlight=False, soft_wrap=True)
    for line in summary.failure_lines():
        err.print(f"[red]✗[/] {escape(line)}", highlight=False, soft_wrap=True)
    if summary.failed:
        err.print("[red]Some KPIs were not refreshed[/] (the others were). Fix the cause above, or run "
                  "`kpi validate`, then `kpi refresh` again.")
        raise typer.Exit(1)


def values_command(
    kpi: str | None = typer.Option(None, "--kpi", help="Only this KPI."),
    date_from: dt.datetime | None = typer.Option(None, "--from", formats=["%Y-%m-%d"], help="First day."),
    date_to: dt.datetime | None = typer.Option(None, "--to", formats=["%Y-%m-%d"], help="Last day."),
    breakdown: str | None = typer.Option(None, "--breakdown", help="A breakdown (e.g. channel); default: totals."),
    source: str | None = typer.Option(None, "--source", help="ga4_export or ga4_api (default: both)."),
    grain: Grain = typer.Option(Grain.day, "--grain", help="day: the stored daily values; week (ISO, from Monday), "
                                "month, period (--from … --to as one): exact values counted from the events."),
    format: OutputFormat = typer.Option(OutputFormat.table, "--format", help="Output format."),
    db: Path | None = DB_OPTION,
    kpis: Path = KPIS_OPTION,
) -> None:
    """Print KPI values per day, or per week, month or period (distinct users and sessions counted once)."""
    if grain is not Grain.day:
        from .cli_periods import COLUMNS, period_values

        if source not in (None, "ga4_export"):
            err.print(f"[red]--grain {grain.value} counts from the GA4 export's events; --source {escape(source)} "
                      "has values per day only.[/] Use --grain day with it.")
            raise typer.Exit(2)

        plan = compiled_or_exit(kpis, "Nothing was computed").plan
        rows = period_values(resolve_db(db), plan, grain.value, kpi, date_from.date() if date_from else None,
                             date_to.date() if date_to else None, breakdown)
        _print_rows(rows, COLUMNS, format)
        return
    path = serving_path(resolve_db(db))
    sql = """
        SELECT strftime(date, '%Y-%m-%d') AS date, kpi_id AS kpi, breakdown, breakdown_value, value,
               numerator, denominator, source, engine
        FROM kpi_values
        WHERE ($kpi IS NULL OR kpi_id = $kpi)
          AND ($from IS NULL OR date >= $from) AND ($to IS NULL OR date <= $to)
          AND breakdown = coalesce($breakdown, '')
          AND ($source IS NULL OR source = $source)
        ORDER BY kpi_id, date, breakdown_value, source
    """
    params: dict[str, object] = {"kpi": kpi, "from": date_from.date() if date_from else None, "to": date_to.date() if date_to else None,
              "breakdown": breakdown, "source": source}
    rows, columns = _read_or_exit(path, sql, params)
    if kpi is not None and not rows:
        known = [str(r[0]) for r in _read_or_exit(path, "SELECT kpi_id FROM kpi_definitions ORDER BY 1", {})[0]]
        if kpi not in known:
            from generator.issues import did_you_mean

            err.print(f"[red]No KPI `{kpi}` in the warehouse.{did_you_mean(kpi, known)}[/]")
            raise typer.Exit(1)
    if not rows:  # an empty table and exit 0 would let a script carry on with nothing
        why = explain_no_values(path, _read_or_exit, kpi, breakdown, params["from"], params["to"], source)
        err.print(f"[red]{escape(why)}[/]", highlight=False)
        raise typer.Exit(1)
    _print_rows(rows, columns, format)


def status_command(
    format: OutputFormat = typer.Option(OutputFormat.table, "--format", help="Output format."),
    fail_on: FailOn | None = typer.Option(
        None, "--fail-on", help="Exit 1 when an event is at least this bad: error (missing, broken, or a check of "
        "level error fired: a name GA4 rejects) or warning (also not in spec, some invalid, a duplicate "
        "transaction id, events without ga_session_id). Default: always exit 0."),
    attribution: bool = typer.Option(False, "--attribution", help="Print the sessions per attribution method "
                                     "and day (how each session got its channel) instead of the events."),
    db: Path | None = DB_OPTION,
) -> None:
    """Implementation status: each spec'd event's volume, violations per check, last seen and spec versions (kb_spec);
    how each day's sessions got their channel."""
    from .cli_findings import check_labels
    from .day_tables import provisional_sentence, serving_provisional_days
    from .reading import as_int, read_serving
    from .status_attribution import RUN_COLUMNS, method_rows, per_run
    from .status_attribution import warning as attribution_warning
    from .status_versions import COLUMNS as VERSION_COLUMNS
    from .status_versions import TABLE_COLUMNS as VERSION_TABLE_COLUMNS
    from .status_versions import versions_table, with_spec_versions

    path = serving_path(resolve_db(db))
    if attribution:
        _status_attribution(path, format)
        return
    _, available = _read_or_exit(path, "SELECT * FROM event_quality LIMIT 0", {})
    shown = {c: label for c, label in check_labels().items() if c in available}  # an older copy lacks the newer checks
    checks = " || ".join(f"CASE WHEN q.{c} > 0 THEN '{label}: ' || q.{c} || ', ' ELSE '' END"
                         for c, label in shown.items())
    sql = f"""
        WITH q AS (SELECT event_name, {", ".join(f"sum({c}) AS {c}" for c in shown)}
                   FROM event_quality GROUP BY event_name)
        SELECT event_name AS event,
               CASE WHEN NOT in_spec THEN 'not in spec'
                    WHEN events = 0 THEN 'missing'
                    WHEN invalid_events > 0.05 * events THEN 'broken'
                    WHEN invalid_events > 0 THEN 'some invalid'
                    ELSE 'ok' END AS status,
               events, invalid_events,
               round(100.0 * invalid_events / nullif(events, 0), 2) AS invalid_pct,
               rtrim({checks}, ', ') AS failed_checks,
               strftime(first_seen, '%Y-%m-%d') AS first_seen, strftime(last_seen, '%Y-%m-%d') AS last_seen,
               array_to_string(kpis, ', ') AS kpis
        FROM event_status LEFT JOIN q USING (event_name)
        ORDER BY CASE status WHEN 'missing' THEN 0 WHEN 'broken' THEN 1 WHEN 'not in spec' THEN 2
                 WHEN 'some invalid' THEN 3 ELSE 4 END, event_name
    """
    rows, columns = read_serving(path, sql)
    sums, _ = read_serving(path, f"SELECT event_name, {', '.join(f'sum({c})::BIGINT' for c in shown)} "
                                 "FROM event_quality GROUP BY event_name")
    counts = {str(r[0]): {c: as_int(n or 0) for c, n in zip(shown, r[1:], strict=True)} for r in sums}
    rows, columns = with_spec_versions(path, rows, columns, structured=format is OutputFormat.json)
    failures = status_failures(rows, columns, fail_on, counts)
    methods = method_rows(path)
    if format is not OutputFormat.table:
        _print_rows(rows, columns, format)
    else:
        at = len(columns) - len(VERSION_COLUMNS) if "spec_version" in columns else len(columns)
        _print_rows([r[:at] for r in rows], columns[:at], format)
        versions = versions_table(rows, columns)
        if versions:
            Console().print("Spec versions (kb_spec) the events carry:")
            _print_rows(versions, VERSION_TABLE_COLUMNS, format)
        provisional = provisional_sentence(serving_provisional_days(path))
        if provisional:
            Console(highlight=False, soft_wrap=True).print(f"[yellow]{escape(provisional)}[/]")
        if methods:
            Console().print("How sessions got their channel (sessions per attribution method; "
                            "--attribution for each day):")
            _print_rows(per_run(methods), RUN_COLUMNS, format)
    no_source = attribution_warning(methods or [])
    if no_source:
        err.print(f"[yellow]⚠ {escape(no_source)}[/]", highlight=False, soft_wrap=True)
    if failures:
        err.print(f"[red]✗ {len(failures)} event{'s' if len(failures) != 1 else ''} at or above "
                  f"--fail-on {fail_on}:[/]", highlight=False)
        for line in failures:
            err.print(f"  {escape(line)}", highlight=False)
        raise typer.Exit(1)


def _status_attribution(path: Path, format: OutputFormat) -> None:
    """`kpi status --attribution`: one row per day, sessions per method, and the warning for days without source."""
    from .status_attribution import DAY_COLUMNS, method_rows, per_day
    from .status_attribution import warning as attribution_warning

    _read_or_exit(path, "SELECT 1", {})  # a missing copy or one behind the store: say so
    methods = method_rows(path)
    if methods is None:
        err.print("[red]This serving copy has no attribution methods yet.[/] Run `kpi refresh`.")
        raise typer.Exit(1)
    _print_rows(per_day(methods), DAY_COLUMNS, format)
    no_source = attribution_warning(methods)
    if no_source:
        err.print(f"[yellow]⚠ {escape(no_source)}[/]", highlight=False, soft_wrap=True)


def _read_or_exit(path: Path, sql: str, params: dict[str, object]) -> tuple[list[tuple[object, ...]], list[str]]:
    from .reading import read_serving

    try:
        found = read_serving(path, sql, params)
        _warn_if_behind(path)
        return found
    except FileNotFoundError:
        err.print(f"[red]No computed KPIs at {path} yet.[/] Run `kpi load demo && kpi refresh` "
                  "(or load your GA4 export, then `kpi refresh`).")
        raise typer.Exit(1) from None


def _warn_if_behind(path: Path) -> None:
    """Say so when the serving copy is older than the store (a refresh running, or one that stopped half-way)."""
    sentence = pending.behind_sentence(path)
    if sentence:
        err.print(f"[yellow]{escape(sentence)}[/]")


def _print_rows(rows: list[tuple[object, ...]], columns: list[str], format: OutputFormat) -> None:
    if format is OutputFormat.json:
        sys.stdout.write(json.dumps([dict(zip(columns, r, strict=True)) for r in rows], default=str) + "\n")
    elif format is OutputFormat.csv:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
        sys.stdout.write(buf.getvalue())
    else:
        from rich.table import Table

        table = Table(*columns, show_lines=False)
        for r in rows:
            table.add_row(*("" if v is None else (f"{v:,.4g}" if isinstance(v, float) else str(v)) for v in r))
        console_for_tables().print(table)
        Console(stderr=True).print(f"[dim]{len(rows)} rows[/]")


def register(app: typer.Typer) -> None:
    """Add `kpi refresh`, `kpi values`, `kpi status` to the `kpi` app."""
    app.command("refresh")(refresh_command)
    app.command("values")(values_command)
    app.command("status")(status_command)
