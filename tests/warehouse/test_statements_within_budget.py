"""A long refresh range is cut into statements that fit in DuckDB's memory (issue 13): the cut changes no value.

`kpi refresh` cuts each range of days its KPIs recompute into ranges of at most `statement_events` events
(`refresh_days.within_budget`), since one statement over every event spills past the memory limit. Each day's
values must not depend on where a range starts or ends: the day batch statement over the whole range is
compared here, row for row, with the same statement over the cut ranges (cut mid-week, between a session's
days, with conversions whose window runs past a cut, deduplicated purchases and first-ever users).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from generator.compile import compile_paths
from generator.sql import sql_parameters
from kpibridge.cli import app as kpi_app
from warehouse.refresh_days import parse_day, within_budget
from warehouse.statements import plan_sql

REPO = Path(__file__).resolve().parents[2]


def test_ranges_are_cut_where_the_next_day_would_pass_the_budget():
    events = {"20260301": 40, "20260302": 50, "20260303": 30, "20260304": 200, "20260305": 10, "20260306": 10}
    assert within_budget([("20260301", "20260306")], events, 100) == [
        ("20260301", "20260302"), ("20260303", "20260303"), ("20260304", "20260304"), ("20260305", "20260306")]
    assert within_budget([("20260301", "20260302"), ("20260305", "20260306")], events, 10**9) == [
        ("20260301", "20260302"), ("20260305", "20260306")]
    assert within_budget([("20260310", "20260312")], events, 1) == [("20260310", "20260312")]  # no events known


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("within_budget") / "warehouse.duckdb"
    result = CliRunner().invoke(kpi_app, ["load", "demo", "--events", "20000", "--days", "40", "--seed", "11",
                                          "--end-date", "2026-03-31", "--db", str(path)])
    assert result.exit_code == 0, result.output
    return path


def test_every_day_counts_the_same_in_cut_ranges_as_in_one(store):
    plan = compile_paths([REPO / "kpis"]).plan
    with duckdb.connect(str(store), read_only=True) as con:
        sql = plan_sql(con, plan)
        days = dict(con.execute("SELECT event_date, rows FROM loaded_days").fetchall())
        whole = (min(days), max(days))
        cut = within_budget([whole], days, sum(days.values()) // 4)
        assert len(cut) >= 4

        def rows(start: str, end: str) -> list[tuple]:
            cursor = con.execute(sql, sql_parameters(parse_day(start), parse_day(end)))
            names = [d[0] for d in cursor.description]
            return [tuple(r) for r in cursor.fetchall() if dict(zip(names, r, strict=True))["date"] <= parse_day(end)]

        one = sorted(rows(*whole), key=repr)
        pieces = sorted((r for start, end in cut for r in rows(start, end)), key=repr)
    assert pieces == one
    assert len({r[1] for r in one if isinstance(r[1], date)}) == len(days)  # a row for every day
