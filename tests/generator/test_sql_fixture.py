"""Correctness: on the hand-made export, every example KPI's SQL returns exactly the values in EXPECTED.md.

Both dialects: the DuckDB SQL as generated, and the BigQuery SQL transpiled back to DuckDB by sqlglot.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from sql_support import bigquery_as_duckdb, connect_with_events, expected_values, run, same_rows

from generator.plan.queries import (
    ConversionQuery,
    DimensionBreakdown,
    KpiQuery,
    PlanConversion,
    PlanMeasure,
    QueryPlan,
    compile_plan,
)
from generator.rules.validate import validate_paths
from generator.sql import render_sql

REPO = Path(__file__).resolve().parents[2]


def _checkout_completion_rate() -> KpiQuery:
    """A per-session conversion (begin_checkout → purchase within 1 hour), unless kpis/ has its own."""
    conversion = PlanConversion(PlanMeasure("sessions_with", "begin_checkout"), PlanMeasure("sessions_with", "purchase"),
                                3600, "session")
    return ConversionQuery(kpi_id="checkout_completion_rate", breakdowns=(DimensionBreakdown("device_category"),),
                           definition_hash="0" * 16, conversion=conversion)


@pytest.fixture(scope="module")
def plan() -> QueryPlan:
    result = validate_paths([REPO / "kpis"])
    assert not result.report.errors
    plan = compile_plan(result.catalog)
    extra = _checkout_completion_rate()
    return QueryPlan({extra.kpi_id: extra, **plan.kpis})


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    return connect_with_events()


EXPECTED = expected_values()


def test_every_kpi_has_expected_values(plan: QueryPlan) -> None:
    missing = sorted(set(plan.kpis) - set(EXPECTED))
    assert not missing, f"add these KPIs' values to tests/fixtures/ga4_export/EXPECTED.md: {missing}"
    for kid in plan.kpis:
        assert any(r[1] == "" for r in EXPECTED[kid]), f"{kid}: no total"
        if plan.kpis[kid].breakdowns:
            assert any(r[1] != "" for r in EXPECTED[kid]), f"{kid}: no breakdown value"


@pytest.mark.parametrize("kid", sorted(EXPECTED))
def test_duckdb_sql_gives_the_hand_computed_values(kid: str, plan: QueryPlan, con: duckdb.DuckDBPyConnection) -> None:
    rows = run(con, render_sql(plan.kpis[kid], plan, "duckdb"))
    assert same_rows(rows, EXPECTED[kid]), _diff(rows, EXPECTED[kid])


@pytest.mark.parametrize("kid", sorted(EXPECTED))
def test_bigquery_sql_transpiled_to_duckdb_gives_the_same_values(kid: str, plan: QueryPlan,
                                                                 con: duckdb.DuckDBPyConnection) -> None:
    rows = run(con, bigquery_as_duckdb(render_sql(plan.kpis[kid], plan, "bigquery")))
    assert same_rows(rows, EXPECTED[kid]), _diff(rows, EXPECTED[kid])


def test_a_range_of_one_day_reads_only_that_day(plan: QueryPlan, con: duckdb.DuckDBPyConnection) -> None:
    rows = run(con, render_sql(plan.kpis["sessions"], plan, "duckdb"), start="20240302", end="20240302")
    assert {r[0] for r in rows} == {"2024-03-02"}
    assert ("2024-03-02", "", "", 5.0, None, 5.0) in rows


def test_a_conversion_cut_at_end_date_still_sees_the_purchase_after_it(plan: QueryPlan,
                                                                       con: duckdb.DuckDBPyConnection) -> None:
    """u6 adds to cart on 2 March at 23:02 and buys on 3 March: counted on 2 March even when the range ends then."""
    rows = run(con, render_sql(plan.kpis["cart_to_purchase_1d"], plan, "duckdb"), start="20240302", end="20240302")
    assert rows == [("2024-03-02", "", "", 1.0, 1.0, 1.0), ("2024-03-02", "device_category", "desktop", 1.0, 1.0, 1.0)]


def _diff(actual: list, expected: list) -> str:
    got = "\n".join(map(str, sorted(actual)))
    want = "\n".join(map(str, sorted(expected)))
    return f"\ngot:\n{got}\nexpected (EXPECTED.md):\n{want}"


def test_the_written_files_run_as_they_are(con: duckdb.DuckDBPyConnection) -> None:
    """What a user runs: the `.sql` file with its comment header and `;`, on an `events` relation."""
    from generator.targets import sql as sql_target
    from generator.targets.context import RenderContext

    artifacts = sql_target.render(RenderContext(catalog=validate_paths([REPO / "kpis"]).catalog))
    files = {a.path: a.content for a in artifacts}
    for kid in ("revenue", "cart_to_purchase_1d"):
        assert same_rows(run(con, files[f"queries/sql/duckdb/{kid}.sql"]), EXPECTED[kid])
        assert same_rows(run(con, bigquery_as_duckdb(files[f"queries/sql/bigquery/{kid}.sql"])), EXPECTED[kid])
