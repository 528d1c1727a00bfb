"""`kpi validate`, `kpi schema`, `kpi generate`, `kpi diff`, `kpi check-events`, `kpi explain`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the generator's commands to the `kpi` app."""
