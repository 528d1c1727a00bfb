"""Warehouses built from the demo property for the alert tests: one with known drops, one quiet."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))

from kpibridge.cli import app  # noqa: E402
from warehouse.sources.demo import generate_demo_events  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
DATA_END = date(2026, 3, 31)  # provisional: 29-31 Mar; judged: 22-28 Mar; compared with 15-21 Mar
TODAY = "2026-04-01"
WINDOW = ("20260322", "20260328")
PROVISIONAL = ("20260329", "20260331")
ADD_TO_CART_STOPS = "20260318"


@dataclass(frozen=True)
class Built:
    db: Path
    serving: Path
    kpis: Path


def kpi(*args) -> object:
    """`kpi …` in-process, as a user types it."""
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="session")
def demo_events():
    return generate_demo_events(events=60_000, days=40, seed=11, end_date=DATA_END)


def _build(folder: Path, events, drops: str, kpis: Path) -> Built:
    """Write the demo as GA4 export files (minus `drops`), load them, refresh the KPIs."""
    export = folder / "export"
    export.mkdir(parents=True)
    con = duckdb.connect()
    con.register("demo", events)
    for (day,) in con.execute("SELECT DISTINCT event_date FROM demo ORDER BY 1").fetchall():
        con.execute(f"COPY (SELECT * FROM demo WHERE event_date = '{day}' AND NOT ({drops})) "
                    f"TO '{export / f'events_{day}.parquet'}' (FORMAT parquet)")
    db = folder / "warehouse.duckdb"
    for args in (("load", "ga4-export", str(export / "events_*.parquet"), "--db", db),
                 ("refresh", "--db", db, "--kpis", kpis)):
        result = kpi(*args)
        assert result.exit_code == 0, result.output
    return Built(db, folder / "warehouse.serving.duckdb", kpis)


# The known drops: half the users gone in the judged week; `add_to_cart` stops arriving on 18 Mar;
# `sign_up` vanishes in the provisional days only (which must not trigger anything on its own).
DROPS = (f"(event_date BETWEEN '{WINDOW[0]}' AND '{WINDOW[1]}' AND hash(user_pseudo_id) % 2 = 0)"
         f" OR (event_name = 'add_to_cart' AND event_date >= '{ADD_TO_CART_STOPS}')"
         f" OR (event_name = 'sign_up' AND event_date >= '{PROVISIONAL[0]}')")


@pytest.fixture(scope="session")
def dropped(tmp_path_factory, demo_events) -> Built:
    return _build(tmp_path_factory.mktemp("dropped"), demo_events, DROPS, REPO / "kpis")


QUIET_KPI = """\
version: 1
kpi: sessions
title: Sessions
description: Visits to the shop.
objective: Grow reach
owner: acquisition-lead@shop.example
team: acquisition
measure:
  sessions: {}
target: {per: week, value: 2000}
thresholds: {warn_below: 1500, critical_below: 1000}
"""


@pytest.fixture(scope="session")
def quiet(tmp_path_factory, demo_events) -> Built:
    folder = tmp_path_factory.mktemp("quiet")
    kpis = folder / "kpis"
    kpis.mkdir()
    shutil.copy(REPO / "kpis" / "events.yaml", kpis / "events.yaml")
    (kpis / "sessions.yaml").write_text(QUIET_KPI, encoding="utf-8")
    return _build(folder, demo_events, "false", kpis)
