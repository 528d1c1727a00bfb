"""Fixtures for the warehouse tests: small demo data, export files written from it, and a `kpi` runner."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from warehouse import cli as warehouse_cli
from warehouse.sources.demo import generate_demo_events, iter_demo_days

REPO = Path(__file__).resolve().parents[2]
DEMO = {"events": 6_000, "days": 9, "seed": 7, "end_date": date(2024, 1, 31)}


@pytest.fixture(scope="session")
def demo_table() -> pa.Table:
    """A small demo property: 6,000 events over 9 days."""
    return generate_demo_events(**DEMO)


@pytest.fixture(scope="session")
def campaign_table() -> pa.Table:
    """Enough days and events to see weekday, campaign and funnel effects."""
    return generate_demo_events(events=60_000, days=30, seed=42, end_date=date(2024, 3, 31))


@pytest.fixture
def export_dir(tmp_path: Path) -> Path:
    """The demo property as a GA4 export: Parquet files for the first days, NDJSON for the rest."""
    folder = tmp_path / "export"
    folder.mkdir()
    con = duckdb.connect()
    for i, (day, table) in enumerate(iter_demo_days(**DEMO)):
        if i < 5:
            pq.write_table(table, folder / f"events_{day}.parquet")
        else:
            con.register("day_table", table)
            con.execute(f"COPY day_table TO '{folder / f'events_{day}.json'}' (FORMAT json)")
            con.unregister("day_table")
    return folder


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "store" / "warehouse.duckdb"


@pytest.fixture(scope="session")
def kpi() -> Callable[..., object]:
    """Run `kpi load …` in-process (the warehouse's own commands, registered as the shell does)."""
    app = typer.Typer()
    load_app = typer.Typer()
    app.add_typer(load_app, name="load")
    warehouse_cli.register(app, load_app)
    runner = CliRunner()

    def run(*args: str | Path):
        return runner.invoke(app, [str(a) for a in args])

    return run


@pytest.fixture(scope="session")
def spawn_kpi() -> Callable[..., subprocess.Popen]:
    """Start the real `kpi` command in a child process."""

    def spawn(*args: str | Path, **popen: object) -> subprocess.Popen:
        code = "from kpibridge.cli import main; main()"
        return subprocess.Popen(
            [sys.executable, "-c", code, *map(str, args)], cwd=REPO, text=True, **popen  # type: ignore[arg-type]
        )

    return spawn


@pytest.fixture(scope="session")
def query() -> Callable[..., list[tuple]]:
    """Read the store with a short-lived read-only connection."""

    def run(path: Path, sql: str, params: dict | None = None) -> list[tuple]:
        with duckdb.connect(str(path), read_only=True) as con:
            return con.execute(sql, params or {}).fetchall()

    return run
