"""`kpi load …`, `kpi refresh`, `kpi values`, `kpi status`, `kpi reconcile`."""

from __future__ import annotations

import json
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from .arrow_setup import skip_pandas_probe
from .cli_options import DB_OPTION, FORMAT_OPTION, KPIS_OPTION, SummaryFormat
from .location import resolve_db

if TYPE_CHECKING:
    from .store import EventSource, LoadSummary

# The store and the sources are imported inside their commands: DuckDB, numpy and pyarrow would slow every other
# `kpi` command (tests/test_cli_startup.py).




def load_demo_command(
    events: int = typer.Option(200_000, "--events", min=1, help="Events in total, over all days."),
    days: int = typer.Option(90, "--days", min=1, help="Days of data, ending on --end-date."),
    seed: int = typer.Option(42, "--seed", help="Same seed, same data."),
    end_date: str | None = typer.Option(None, "--end-date", help="Last day, YYYY-MM-DD (default: yesterday)."),
    db: Path = DB_OPTION,
    format: SummaryFormat = FORMAT_OPTION,
    kpis: Path = KPIS_OPTION,
) -> None:
    """Generate the demo shop's GA4 export data (users, sessions, funnel, a campaign) into the warehouse."""
    last = _parse_date(end_date) if end_date else date.today() - timedelta(days=1)
    if events < days:
        _fail(f"--events {events} is fewer than --days {days}: the demo needs at least one event per day.", code=2)
    skip_pandas_probe()
    from .sources.demo import DemoSource

    _load(DemoSource(events, days, seed, last), db, format, kpis)


def load_ga4_export_command(
    path: str = typer.Argument(..., metavar="PATH_OR_GLOB", help="An export file, a folder, or a glob like 'exports/events_*.parquet'."),
    db: Path = DB_OPTION,
    format: SummaryFormat = FORMAT_OPTION,
    kpis: Path = KPIS_OPTION,
) -> None:
    """Load GA4 BigQuery export files (Parquet or NDJSON); each day in them replaces that day in the warehouse."""
    skip_pandas_probe()
    from .sources.ga4_export import ExportSource
    from .store import LoadError

    try:
        source = ExportSource.from_spec(path)
    except LoadError as exc:
        _fail(str(exc))
    _load(source, db, format, kpis)


def register(app: typer.Typer, load_app: typer.Typer) -> None:
    """Add the warehouse's commands to the `kpi` app and its `load` group."""
    load_app.command("demo")(load_demo_command)
    load_app.command("ga4-export")(load_ga4_export_command)


def _load(source: EventSource, db: Path | None, format: SummaryFormat, kpis: Path) -> None:
    import duckdb

    from .connection import StoreError, connect_store
    from .flat_params import params_for_load
    from .pending import behind_sentence
    from .serving import serving_path
    from .store import LoadError, run_load

    path = resolve_db(db)
    try:
        con = connect_store(path)
    except StoreError as exc:
        _fail(str(exc))
    try:
        with _DayProgress(source.source) as progress:
            summary = run_load(con, source, progress, flat_keys=params_for_load(con, kpis))
    except LoadError as exc:
        _fail(f"{exc} Nothing was loaded; the warehouse is as it was.")
    except duckdb.Error as exc:
        reason = str(exc).strip().splitlines()[0]
        _fail(f"The warehouse {path} could not be written ({reason}). Nothing was loaded.")
    except KeyboardInterrupt:
        _fail("Interrupted: nothing was loaded; the warehouse is as it was.", code=130)
    finally:
        con.close()
    _print_summary(summary, path, format)
    behind = behind_sentence(serving_path(path))  # a refresh stopped half-way: the new data needs one anyway
    if behind:
        Console(stderr=True).print(f"[yellow]{escape(behind)}[/]")


def _print_summary(summary: LoadSummary, path: Path, format: SummaryFormat) -> None:
    from .day_tables import provisional_sentence

    if format is SummaryFormat.json:
        sys.stdout.write(json.dumps({**summary.as_dict(), "db": str(path)}) + "\n")
        return
    span = f" ({_iso(summary.start_date)} to {_iso(summary.end_date)})" if summary.start_date else ""
    console = Console(highlight=False, soft_wrap=True)
    console.print(escape(
        f"Loaded {summary.rows:,} rows over {summary.days} day{'' if summary.days == 1 else 's'}{span} into {path} "
        f"in {summary.seconds:.1f} s (load {summary.load_id}, {summary.source})."
    ))
    for note in summary.notes:  # what was skipped or replaced, so a file left out is never a surprise
        console.print(escape(f"Note: {note}"))
    provisional = provisional_sentence(list(summary.provisional))
    if provisional:
        console.print(f"[yellow]{escape(provisional)}[/]")


class _DayProgress:
    """A rich progress bar over days on a terminal; elsewhere (CI logs, pipes) a plain line for the first
    day and then one per tenth of the days, so 90 days make 11 lines, not 90."""

    def __init__(self, label: str) -> None:
        self.console = Console(stderr=True)
        self.label = label
        self.bar: Progress | None = None
        self.task: TaskID | None = None
        self.rows = 0
        self.total = 0
        self.done = 0

    def __enter__(self) -> _DayProgress:
        if self.console.is_terminal:
            self.bar = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[rows]:,} rows"), TimeElapsedColumn(),
                console=self.console, transient=True,
            )  # fmt: skip
            self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)

    def start(self, total_days: int) -> None:
        self.total = total_days
        if self.bar is not None:
            self.task = self.bar.add_task(f"Loading {self.label}", total=total_days, rows=0)

    def day_done(self, day: str, rows: int) -> None:
        self.rows += rows
        self.done += 1
        if self.bar is not None and self.task is not None:
            self.bar.update(self.task, advance=1, rows=self.rows)
            return
        total = max(self.total, self.done)
        if self.done == 1 or self.done * 10 // total > (self.done - 1) * 10 // total:
            print(f"loaded {day}: {rows} rows ({self.done} of {total} days, {self.rows:,} rows so far)",
                  file=sys.stderr, flush=True)


def _iso(day: str | None) -> str:
    return f"{day[:4]}-{day[4:6]}-{day[6:]}" if day and len(day) == 8 else str(day)


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        _fail(f"--end-date {text!r} is not a date: write it as YYYY-MM-DD, e.g. 2024-01-31.", code=2)


def _fail(message: str, code: int = 1) -> NoReturn:
    Console(stderr=True, highlight=False).print(f"[red]Error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)
