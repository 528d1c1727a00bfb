"""The refresh's and `kpi validate --db`'s report of KPI files against the loaded data (value_findings.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from generator.issues import Issue, Report

if TYPE_CHECKING:
    import datetime as dt

    import duckdb

    from generator.parse.catalog import KpiCatalog

# DuckDB and the checks are imported in the functions: `kpi validate` registers `findings_for_validate` and
# starts without them (tests/test_cli_startup.py).

err = Console(stderr=True)


def checked_findings(con: duckdb.DuckDBPyConnection, catalog: KpiCatalog, skip: set[str],
                     again: bool = False, fresh_since: dt.datetime | None = None) -> list[Issue] | None:
    """The KPI files checked against the loaded data, but the KPIs of `skip`; None, with a warning, when the
    database cannot run the checks (the refresh itself is done). `again`: read every loaded day's values anew
    (`kpi refresh --full`), but those read since `fresh_since`."""
    import duckdb

    from .value_findings import check_loaded_values

    try:
        return check_loaded_values(con, catalog, skip, again=again, fresh_since=fresh_since)
    except duckdb.Error as exc:
        err.print(f"[yellow]! The KPI files' values could not be checked against the data: "
                  f"{escape(str(exc).splitlines()[0])}[/]", highlight=False)
        return None


def print_findings(findings: list[Issue], console: Console) -> None:
    """`file:line:col  CODE  message`, the hint under it; nothing when the data bears everything out."""
    if not findings:
        return
    n = len(findings)
    console.print(f"[yellow]! {n} thing{'s' if n != 1 else ''} in the KPI files the loaded data does not bear "
                  "out[/] (the KPIs were computed; fix the files, then `kpi refresh`):", highlight=False)
    for issue in Report(findings).sorted():
        console.print(f"  [bold]{escape(str(issue.location))}[/]  [yellow]{issue.code}[/]  {escape(issue.message)}",
                      highlight=False, soft_wrap=True)
        if issue.hint:
            console.print(f"      [dim]→ {escape(issue.hint)}[/]", highlight=False, soft_wrap=True)


def findings_for_validate(catalog: KpiCatalog, db: Path) -> list[Issue] | str:
    """`kpi validate --db`: the checks on the store, read-only; a sentence instead when it cannot be read."""
    import duckdb

    from .connection import StoreError, connect_store
    from .value_findings import check_loaded_values

    if not db.exists():
        return (f"There is no warehouse at {db}: load data first (`kpi load demo` or `kpi load ga4-export FILES`), "
                "or leave out --db.")
    try:
        con = connect_store(db, read_only=True)
    except StoreError as exc:
        return str(exc)
    try:
        return check_loaded_values(con, catalog, keep=False)
    except duckdb.Error as exc:
        return f"The warehouse {db} could not be checked: {str(exc).splitlines()[0]}"
    finally:
        con.close()
