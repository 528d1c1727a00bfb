"""The whole `kpi` app run in-process as a user types it, and a read-only query of a store: for the tests."""

from __future__ import annotations

from pathlib import Path

import duckdb
from typer.testing import CliRunner

from kpibridge.cli import app as kpi_app


def kpi(*args: object) -> str:
    """`kpi ARGS…`; asserts it succeeded and returns what it printed on stdout."""
    result = CliRunner().invoke(kpi_app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.stdout


def rows(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()
