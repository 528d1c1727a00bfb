"""`kpi demo`: from a fresh install to a live dashboard in one command."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add `kpi demo` to the `kpi` app."""
