"""`kpi dashboard`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the dashboard's commands to the `kpi` app."""
