"""`kpi prune`: delete the stored values of KPIs that are no longer active (draft, deprecated or removed).

Refresh never deletes history (warehouse/history.py); this is the one explicit way to let it go. It lists
what it would delete and asks first (`--yes` for scripts), then rebuilds the serving copy.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from generator.cli.compile_or_exit import compiled_or_exit

from .cli_options import DB_OPTION, KPIS_OPTION
from .location import resolve_db

err = Console(stderr=True)


def prune_command(
    db: Path | None = DB_OPTION,
    kpis: Path = KPIS_OPTION,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask; delete right away."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only list what would be deleted."),
) -> None:
    """Delete the stored values of KPIs that are not active any more (history is otherwise kept)."""
    from .connection import StoreError, connect_store
    from .history import inactive_kpis, prune
    from .serving import publish_serving

    compiled = compiled_or_exit(kpis, "Nothing was deleted")
    catalog, plan = compiled.catalog, compiled.plan
    store_path = resolve_db(db)
    if not store_path.exists():
        err.print(f"[red]There is no warehouse at {escape(str(store_path))}.[/]")
        raise typer.Exit(1)
    try:
        con = connect_store(store_path)
    except StoreError as exc:
        err.print(f"[red]{escape(str(exc))}[/]")
        raise typer.Exit(1) from None
    try:
        found = inactive_kpis(con, set(plan.kpis))
        if not found:
            Console().print("Nothing to prune: every KPI with stored values is active.")
            return
        for kpi_id, count in found.items():
            sourced = catalog.kpis.get(kpi_id)
            status = sourced.kpi.status if sourced else "removed from kpis/"
            Console().print(f"  {escape(kpi_id)} ({escape(status)}): {count:,} stored values")
        if dry_run:
            Console().print(f"Would delete the stored values of {len(found)} KPIs (--dry-run: nothing deleted).")
            return
        if not yes and not typer.confirm(f"Delete the stored values of these {len(found)} KPIs for good?"):
            err.print("Nothing deleted.")
            raise typer.Exit(1)
        prune(con, sorted(found))
        publish_serving(con, store_path, catalog, plan)
    finally:
        con.close()
    Console().print(f"[green]✓[/] Deleted the stored values of {len(found)} KPIs; the serving copy is rebuilt.")
