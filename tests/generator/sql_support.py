"""Helpers for the SQL tests: the hand-made GA4 export in DuckDB, its expected values, running a query."""

from __future__ import annotations

import importlib.util
import re
import sys
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb
import sqlglot

from generator.sql import BIGQUERY_TABLE_PLACEHOLDER

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "ga4_export"

Row = tuple[str, str, str, float | None, float | None, float | None]


def fixture_module() -> ModuleType:
    """`tests/fixtures/ga4_export/events.py`, imported by path (the fixtures folder is not a package)."""
    name = "ga4_export_fixture"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, FIXTURE / "events.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def connect_with_events(rows_table: Any | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the fixture (or the given Arrow table) as the relation `events`."""
    con = duckdb.connect()
    table = rows_table if rows_table is not None else fixture_module().table()
    con.register("fixture_events", table)
    con.execute("CREATE TABLE events AS SELECT * FROM fixture_events")
    con.unregister("fixture_events")
    return con


def run(con: duckdb.DuckDBPyConnection, sql: str, start: str | None = None, end: str | None = None) -> list[Row]:
    fx = fixture_module()
    params = {"start_date": start or fx.START, "end_date": end or fx.END}
    cursor = con.execute(sql, params)
    assert [d[0] for d in cursor.description] == ["date", "breakdown", "breakdown_value", "numerator",
                                                  "denominator", "value"]
    out = []
    for day, breakdown, value, numerator, denominator, result in cursor.fetchall():
        assert isinstance(day, date)
        out.append((day.isoformat(), breakdown, value, numerator, denominator, result))
    return out


def bigquery_as_duckdb(sql: str) -> str:
    """The BigQuery SQL made runnable on the fixture: the export table becomes `events`, and the table suffix
    (which is the event date in a daily export) becomes `event_date`; then sqlglot transpiles it."""
    swapped = sql.replace(f"`{BIGQUERY_TABLE_PLACEHOLDER}`", "events").replace("_TABLE_SUFFIX", "event_date")
    statements = sqlglot.transpile(swapped, read="bigquery", write="duckdb")
    assert len(statements) == 1
    return statements[0]


def expected_values() -> dict[str, list[Row]]:
    """The tables of EXPECTED.md: for each KPI, every row its query must return."""
    out: dict[str, list[Row]] = {}
    kpi = None
    for line in (FIXTURE / "EXPECTED.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("### "):
            kpi = line[4:].strip()
            out[kpi] = []
        elif kpi and re.match(r"^\| \d{4}-\d{2}-\d{2} ", line):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            day, breakdown, value, numerator, denominator, result = cells[:6]
            out[kpi].append((day, breakdown, value, _number(numerator), _number(denominator), _number(result)))
    return out


def _number(text: str) -> float | None:
    if text == "—":
        return None
    if "/" in text:
        top, bottom = text.split("/")
        return float(top) / float(bottom)
    return float(text)


def same_rows(actual: list[Row], expected: list[Row]) -> bool:
    def key(r: Row) -> tuple[str, str, str]:
        return r[0], r[1], r[2]

    if sorted(map(key, actual)) != sorted(map(key, expected)):
        return False
    by_key = {key(r): r for r in expected}
    for row in actual:
        want = by_key[key(row)]
        for got, exp_ in zip(row[3:], want[3:], strict=True):
            if (got is None) != (exp_ is None) or (got is not None and abs(got - exp_) > 1e-9):  # type: ignore[operator]
                return False
    return True
