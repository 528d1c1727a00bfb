"""`kpi values --grain week|month|period`: exact values over weeks, months or one period, from the events.

Distinct users and sessions over a period are not sums of days, so these grains are not read from the stored
daily values: the KPIs' batch statement runs with a bucket (`generator/sql/buckets.py`) over the store's
events for the range, on a read-only connection (it waits while a load or refresh holds the store). Counts
and sums come out as the sums of their days, ratios as numerator / denominator over the whole bucket.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.console import Console

from generator.issues import did_you_mean
from generator.plan.queries import QueryPlan

from .connection import StoreError, connect_store
from .period_values import run_bucketed
from .refresh_days import parse_day

COLUMNS = ["period_start", "period_end", "days", "kpi", "breakdown", "breakdown_value", "value", "numerator",
           "denominator", "source"]
err = Console(stderr=True)


def period_values(store: Path, plan: QueryPlan, grain: str, kpi: str | None, start: dt.date | None,
                  end: dt.date | None, breakdown: str | None) -> list[tuple[object, ...]]:
    """The rows `kpi values` prints for a week, month or period grain (exits 1 with a message when it cannot)."""
    if kpi is not None and kpi not in plan.kpis:
        err.print(f"[red]No active KPI `{kpi}` in the KPI files.{did_you_mean(kpi, list(plan.kpis))}[/]")
        raise typer.Exit(1)
    if not store.exists():
        err.print(f"[red]There is no warehouse at {store} yet.[/] Load data first: `kpi load demo` "
                  "(or `kpi load ga4-export FILES`).")
        raise typer.Exit(1)
    try:
        con = connect_store(store, read_only=True)
    except StoreError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    try:
        days = [d for (d,) in con.execute("SELECT event_date FROM loaded_days ORDER BY 1").fetchall()]
        if not days:
            err.print("[red]The warehouse holds no GA4 export events[/]: week, month and period values are counted "
                      "from the events (`kpi load demo` or `kpi load ga4-export FILES`); `--grain day` shows the "
                      "stored daily values.")
            raise typer.Exit(1)
        first, last = start or parse_day(days[0]), end or parse_day(days[-1])
        if last < first:
            err.print(f"[red]--to ({last}) is before --from ({first}).[/]")
            raise typer.Exit(2)
        ids = [kpi] if kpi else list(plan.kpis)
        rows = run_bucketed(con, plan, ids, grain, first, last)
    finally:
        con.close()
    wanted = breakdown or ""
    out = [(r["period_start"].isoformat(), r["period_end"].isoformat(),  # type: ignore[attr-defined]
            (r["period_end"] - r["period_start"]).days + 1, r["kpi_id"], r["breakdown"],  # type: ignore[operator]
            r["breakdown_value"], r["value"], r["numerator"], r["denominator"], "ga4_export")
           for r in rows if r["kpi_id"] in ids and r["breakdown"] == wanted]
    return sorted(out, key=lambda r: (str(r[3]), r[0], str(r[5])))
