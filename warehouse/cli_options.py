"""Options the warehouse's commands share: `--db`, `--kpis` and the summary's `--format`."""

from __future__ import annotations

import enum

import typer

from .project_config import DEFAULT_KPIS_DIR


class SummaryFormat(enum.StrEnum):
    text = "text"
    json = "json"


DB_OPTION = typer.Option(None, "--db", help="Warehouse file (default: $KPIBRIDGE_DB or .kpibridge/warehouse.duckdb).")
FORMAT_OPTION = typer.Option(SummaryFormat.text, "--format", "-f", help="Summary format.")
KPIS_OPTION = typer.Option(DEFAULT_KPIS_DIR, "--kpis", help="Folder of KPI files.")
