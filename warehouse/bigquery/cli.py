"""The BigQuery half of `kpi refresh`: settings, the dry run's cost, the run, the serving copy, write-back."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import typer
from rich.console import Console
from rich.markup import escape

from generator.compile import Compiled

from ..connection import StoreError, connect_store
from ..project_config import load_project_config
from ..serving import publish_serving
from .client import BigQueryError
from .engine import BigQueryEngine
from .refresh import refresh_on_bigquery
from .settings import SettingsError, parse_write_table, resolve_settings
from .write_back import stored_values, write_table

err = Console(stderr=True, highlight=False, soft_wrap=True)


@dataclass(frozen=True)
class BigQueryOptions:
    """The `kpi refresh` flags that only the BigQuery engine reads."""

    project: str | None = None
    dataset: str | None = None
    location: str | None = None
    max_bytes_billed: int | None = None
    credentials: Path | None = None
    dry_run: bool = False
    write_table: str | None = None


def run_bigquery_refresh(compiled: Compiled, kpis: Path, store_path: Path, full: bool,
                         options: BigQueryOptions, json_output: bool) -> None:
    catalog, plan = compiled.catalog, compiled.plan
    config = load_project_config(kpis)
    try:
        settings = resolve_settings(config.bigquery, config.path, project=options.project, dataset=options.dataset,
                                    location=options.location, max_bytes_billed=options.max_bytes_billed,
                                    credentials=options.credentials)
        target = parse_write_table(options.write_table, settings) if options.write_table else None
    except SettingsError as exc:
        _fail(str(exc), code=2)

    def announce(message: str) -> None:
        err.print(escape(message))

    try:
        engine = BigQueryEngine(settings, announce)
        con = connect_store(store_path)
    except (BigQueryError, StoreError) as exc:
        _fail(str(exc))
    written, stored = None, False
    try:
        summary = refresh_on_bigquery(con, catalog, plan, engine, full=full, dry_run=options.dry_run,
                                      announce=announce)
        if not summary.dry_run:
            publish_serving(con, store_path, catalog, plan)
            stored = True
            if target is not None:
                written = write_table(engine, stored_values(con), *target)
    except BigQueryError as exc:
        _fail(f"{exc} The local KPI values are refreshed; only the write to BigQuery failed." if stored
              else f"{exc} The stored KPI values are as they were.")
    except duckdb.Error as exc:
        _fail(f"The refresh failed and changed nothing: {str(exc).splitlines()[0]}")
    except KeyboardInterrupt:
        _fail("Interrupted: the stored KPI values are as they were.", code=130)
    finally:
        con.close()
    if json_output:
        sys.stdout.write(json.dumps({**summary.as_dict(), "write_table_rows": written}) + "\n")
        return
    out = Console(highlight=False, soft_wrap=True)
    out.print(("" if summary.dry_run else "[green]✓[/] ") + escape(summary.line()))
    if written is not None and target is not None:
        out.print(f"Merged {written:,} values into {'.'.join(target)}.")


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]Error:[/] {escape(message)}")
    raise typer.Exit(code)
