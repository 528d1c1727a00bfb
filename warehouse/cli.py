"""`kpi load …`, `kpi refresh`, `kpi values`, `kpi status`, `kpi reconcile`."""

from __future__ import annotations

import typer


def register(app: typer.Typer, load_app: typer.Typer) -> None:
    """Add the warehouse's commands to the `kpi` app and its `load` group."""
