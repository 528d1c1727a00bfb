"""The KPI SQL's shape, its dialects, its safety with marketers' values, and the measure kinds the examples
do not use (checked on the hand-made export)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import pytest
import sqlglot
from sql_support import bigquery_as_duckdb, connect_with_events, fixture_module, run
from sqlglot import exp

from generator.ga4.dimensions import DIMENSIONS
from generator.plan.formula import parse_formula
from generator.plan.queries import (
    DimensionBreakdown,
    EventParamBreakdown,
    KpiQuery,
    PlanBreakdown,
    PlanFilter,
    PlanMeasure,
    QueryPlan,
    SimpleQuery,
    compile_plan,
)
from generator.rules.validate import validate_paths
from generator.sql import RESULT_COLUMNS, build_kpi_query, lower, render_sql, sql_parameters
from generator.sql.conversions import extension_days
from generator.sql.dialects import EventParam, EventsRelation, ExportDateRange
from generator.sql.header import render_sql_file

REPO = Path(__file__).resolve().parents[2]
D1, D2 = "2024-03-01", "2024-03-02"


@pytest.fixture(scope="module")
def plan() -> QueryPlan:
    result = validate_paths([REPO / "kpis"])
    assert not result.report.errors
    return compile_plan(result.catalog)


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    return connect_with_events()


def simple(measure: PlanMeasure, *breakdowns: PlanBreakdown, kid: str = "probe") -> KpiQuery:
    return SimpleQuery(kpi_id=kid, breakdowns=breakdowns, definition_hash="0" * 16, measure=measure)


def dimension(name: str) -> PlanBreakdown:
    return DimensionBreakdown(name)


def both_dialects(con: duckdb.DuckDBPyConnection, q: KpiQuery, plan: QueryPlan | None = None) -> list[tuple]:
    """The rows of the DuckDB SQL, after checking the BigQuery SQL (through sqlglot) gives the same."""
    plan = plan or QueryPlan({q.kpi_id: q})
    rows = run(con, render_sql(q, plan, "duckdb"))
    assert sorted(run(con, bigquery_as_duckdb(render_sql(q, plan, "bigquery")))) == sorted(rows)
    return rows


def totals(rows: list[tuple]) -> dict[str, float]:
    return {r[0]: r[5] for r in rows if r[1] == ""}


# --- shape and dialects ---------------------------------------------------------------------------------

@pytest.mark.parametrize("dialect", ["duckdb", "bigquery"])
def test_every_kpi_is_one_statement_with_the_result_columns(plan: QueryPlan, dialect: str) -> None:
    for kid, q in plan.kpis.items():
        statements = sqlglot.parse(render_sql(q, plan, dialect), read=dialect)
        assert len(statements) == 1, kid
        assert statements[0].named_selects == list(RESULT_COLUMNS), kid


def test_bigquery_sql_is_what_a_bigquery_user_runs(plan: QueryPlan) -> None:
    for kid, q in plan.kpis.items():
        sql = render_sql(q, plan, "bigquery")
        assert "FROM `your-project.analytics_123456789.events_*`" in sql, kid
        assert "_TABLE_SUFFIX BETWEEN @start_date AND " in sql, kid
        assert "FROM UNNEST(event_params) AS param" in sql, kid
        assert "PARSE_DATE('%Y%m%d', event_date)" in sql, kid
        assert "APPROX" not in sql and "$start_date" not in sql and "LIST_FILTER" not in sql, kid


def test_duckdb_sql_reads_events_once_per_day_range_without_correlated_subqueries(plan: QueryPlan) -> None:
    for kid, q in plan.kpis.items():
        sql = render_sql(q, plan, "duckdb")
        ast = sqlglot.parse_one(sql, read="duckdb")
        tables = [t.name for t in ast.find_all(exp.Table)]
        # the days asked for, once; plus, for a KPI that shows traffic, the lookback days before them whose
        # clicks a direct session carries (of the users it lists: `dialects.LookbackUsers`), and for purchases,
        # the earlier days whose transaction ids count already
        ctes = [c.alias for c in ast.find_all(exp.CTE)]
        earlier = sum(1 for c in ctes if c.endswith(("prior_params", "earlier_transactions")))
        assert tables.count("events") == max(len(q.components), 1) + earlier, kid
        assert "event_date BETWEEN $start_date AND " in sql, kid
        assert "UNNEST" not in sql and "LIST_FILTER(event_params" in sql, kid
        # subqueries only as CTEs: none inside a SELECT list or a condition, but the uncorrelated list of the
        # users whose clicks may be carried, `… IN (SELECT visitor FROM session_firsts WHERE last_click IS NULL)`
        uncorrelated = {"SELECT visitor FROM session_firsts WHERE last_click IS NULL"}
        assert not [s for s in ast.find_all(exp.Subquery)
                    if not (isinstance(s.parent, exp.In) and s.this.sql("duckdb") in uncorrelated)], kid


def test_total_and_breakdowns_in_one_grouping_sets(plan: QueryPlan) -> None:
    sql = render_sql(plan.kpis["sessions"], plan, "duckdb")
    assert "GROUPING SETS (\n      (event_day),\n      (event_day, by_channel),\n      (event_day, by_device_category)" in sql


def test_the_neutral_ast_has_three_dialect_nodes_and_lowering_removes_them(plan: QueryPlan) -> None:
    ast = build_kpi_query(plan.kpis["revenue"], plan)
    kinds = {type(n) for n in ast.walk()}
    assert {EventsRelation, ExportDateRange, EventParam} <= kinds
    for dialect in ("duckdb", "bigquery"):
        lowered = lower(ast, dialect)  # type: ignore[arg-type]
        assert not {EventsRelation, ExportDateRange, EventParam} & {type(n) for n in lowered.walk()}
    assert {EventsRelation, ExportDateRange, EventParam} <= {type(n) for n in ast.walk()}  # not changed
    with pytest.raises(ValueError, match="unknown SQL dialect"):
        lower(ast, "postgres")  # type: ignore[arg-type]


def test_conversion_windows_extend_the_days_read() -> None:
    assert extension_days(3600) == 1
    assert extension_days(86400) == 2
    assert extension_days(7 * 86400) == 8


def test_sql_parameters_from_dates() -> None:
    from datetime import date

    assert sql_parameters(date(2024, 1, 1), date(2024, 1, 31)) == {"start_date": "20240101", "end_date": "20240131"}
    with pytest.raises(ValueError):
        sql_parameters(date(2024, 2, 1), date(2024, 1, 1))


# --- marketers' values stay literals ------------------------------------------------------------------------

NASTY = [
    "it's",
    "a'; DROP TABLE events; --",
    "*/ SELECT 1 /*",
    "-- comment",
    "/* open",
    "back\\slash\\'",
    "ünï©ødé ✓ 東京 😀",
    "line\nbreak; SELECT 2",
    "$start_date @end_date",
    "100%_off",
    '"double" `back`',
]


def _literals(statement: exp.Expression) -> set[str]:
    return {lit.this for lit in statement.find_all(exp.Literal) if lit.is_string}


@pytest.mark.parametrize("operator", ["equals", "not_equals", "in", "not_in", "contains", "starts_with"])
@pytest.mark.parametrize("subject", ["param", "dimension"])
def test_marketer_values_are_literals_that_parse_back_unchanged(operator: str, subject: str) -> None:
    values = tuple(NASTY) if operator in ("in", "not_in") else None
    queries = []
    for text in NASTY if values is None else [None]:
        value = values if values is not None else text
        name = "method" if subject == "param" else "country"
        f = PlanFilter(subject, name, operator, value)  # type: ignore[arg-type]
        queries.append(simple(PlanMeasure("count", "sign_up", filters=(f,))))
    for q in queries:
        for dialect in ("duckdb", "bigquery"):
            sql = render_sql(q, QueryPlan({q.kpi_id: q}), dialect)  # type: ignore[arg-type]
            statements = sqlglot.parse(sql, read=dialect)
            assert len(statements) == 1
            literals = _literals(statements[0])
            wanted = set(NASTY) if values is not None else {q.measure.filters[0].value}  # type: ignore[union-attr]
            assert wanted <= literals


@pytest.mark.parametrize("text", NASTY)
def test_a_nasty_value_matches_exactly_the_event_that_has_it(text: str) -> None:
    fx = fixture_module()
    rows = fx.rows()
    sign_up = next(r for r in rows if r["event_name"] == "sign_up" and r["event_date"] == "20240301"
                   and any(p["value"]["string_value"] == "email" for p in r["event_params"]))
    for p in sign_up["event_params"]:
        if p["key"] == "method":
            p["value"]["string_value"] = text
    import pyarrow as pa

    from warehouse.schema.events import ARROW_SCHEMA

    con = connect_with_events(pa.Table.from_pylist(rows, schema=ARROW_SCHEMA))
    q = simple(PlanMeasure("count", "sign_up", filters=(PlanFilter("param", "method", "equals", text),)))
    # 2 March has data but no such sign-up: 0, not missing (issue 10 §8)
    assert both_dialects(con, q) == [(D1, "", "", 1.0, None, 1.0), (D2, "", "", 0.0, None, 0.0)]


def test_a_header_with_line_breaks_and_comment_markers_stays_a_comment(plan: QueryPlan) -> None:
    q = plan.kpis["revenue"]
    title = "Revenue\nDROP TABLE events; -- */ \r\n SELECT 1\u2028SELECT 2"
    for dialect in ("duckdb", "bigquery"):
        text = render_sql_file(q, plan, dialect, title=title, owner="x\ny")  # type: ignore[arg-type]
        assert all(line.startswith("-- ") for line in text.split("WITH ", 1)[0].splitlines())
        statements = [s for s in sqlglot.parse(text, read=dialect) if s is not None]
        assert len(statements) == 1
        assert isinstance(statements[0], exp.Select)


# --- measure kinds and filters the examples do not use ---------------------------------------------------

def test_users_and_users_with_a_deduplicated_purchase(con: duckdb.DuckDBPyConnection) -> None:
    assert totals(both_dialects(con, simple(PlanMeasure("users")))) == {D1: 4.0, D2: 5.0}
    # u1's duplicate T1001 on 2 March does not make u1 a buyer that day
    assert totals(both_dialects(con, simple(PlanMeasure("users_with", "purchase")))) == {D1: 1.0, D2: 3.0}


def test_dimension_and_number_conditions(con: duckdb.DuckDBPyConnection) -> None:
    abroad = PlanFilter("dimension", "country", "in", ("Austria", "France"))
    assert totals(both_dialects(con, simple(PlanMeasure("sessions", filters=(abroad,))))) == {D1: 2.0, D2: 2.0}
    valuable = PlanFilter("param", "value", "gt", 10, "number")
    assert totals(both_dialects(con, simple(PlanMeasure("count", "generate_lead", filters=(valuable,))))) == {D1: 1.0, D2: 0.0}
    paid_channel = PlanFilter("dimension", "channel", "starts_with", "Paid")
    # last non-direct click: u1-b and u1-c carry u1-a's Paid Search click, u2-b carries u2-a's Paid Social one
    assert totals(both_dialects(con, simple(PlanMeasure("sessions", filters=(paid_channel,))))) == {D1: 3.0, D2: 2.0}


@pytest.mark.parametrize(("operator", "value", "count"), [
    ("equals", "paypal", 2), ("not_equals", "card", 3), ("in", ("card", "invoice"), 2), ("not_in", ("card", "paypal"), 1),
    ("contains", "pay", 2), ("starts_with", "in", 1),
])
def test_string_operators_on_2_march_purchases(con: duckdb.DuckDBPyConnection, operator: str, value: object,
                                              count: int) -> None:
    f = PlanFilter("param", "payment_type", operator, value)  # type: ignore[arg-type]
    assert totals(both_dialects(con, simple(PlanMeasure("count", "purchase", filters=(f,))))).get(D2) == count


def test_a_param_missing_on_an_event_counts_for_not_equals(con: duckdb.DuckDBPyConnection) -> None:
    """u6's lead has no lead_source: `not_equals newsletter` keeps it, as GA4's notExpression does."""
    f = PlanFilter("param", "lead_source", "not_equals", "newsletter")
    assert totals(both_dialects(con, simple(PlanMeasure("count", "generate_lead", filters=(f,))))) == {D1: 0.0, D2: 2.0}


def test_boolean_conditions_render_as_boolean_literals(con: duckdb.DuckDBPyConnection) -> None:
    f = PlanFilter("param", "is_gift", "equals", True, "boolean")
    q = simple(PlanMeasure("count", "purchase", filters=(f,)))
    assert "= TRUE" in render_sql(q, QueryPlan({q.kpi_id: q}), "duckdb")
    assert both_dialects(con, q) == [(D1, "", "", 0.0, None, 0.0), (D2, "", "", 0.0, None, 0.0)]  # days with data: 0


def test_every_dimension_breaks_sessions_down_into_parts_that_add_up(con: duckdb.DuckDBPyConnection) -> None:
    q = simple(PlanMeasure("sessions"), *(dimension(name) for name in sorted(DIMENSIONS)))
    rows = both_dialects(con, q)
    for name in DIMENSIONS:
        for day, total in totals(rows).items():
            parts = [r for r in rows if r[0] == day and r[1] == name]
            if name == "page_path":  # event-scoped: a session that saw two pages counts under both, as in GA4
                assert parts and sum(r[5] for r in parts) > total
            else:
                assert parts and sum(r[5] for r in parts) == total, name


def test_session_dimensions_come_from_the_first_event(con: duckdb.DuckDBPyConnection) -> None:
    q = simple(PlanMeasure("sessions"), *(dimension(n) for n in ("source", "medium", "campaign", "landing_page")))
    rows = {(r[0], r[1], r[2]): r[5] for r in both_dialects(con, q)}
    # u1-b has no source of its own and carries u1-a's google / cpc click (last non-direct click)
    assert rows[(D1, "source", "google")] == 2 and rows[(D1, "medium", "cpc")] == 2
    assert (D1, "source", "(direct)") not in rows
    assert rows[(D2, "source", "(direct)")] == 1 and rows[(D2, "medium", "(none)")] == 1  # u5-a: no earlier click
    assert rows[(D1, "campaign", "spring_sale")] == 2 and rows[(D1, "campaign", "(not set)")] == 1  # the referral
    assert rows[(D2, "landing_page", "/checkout/thank-you")] == 1 and rows[(D2, "landing_page", "/")] == 4


def test_a_number_param_read_from_int_double_and_string_values(con: duckdb.DuckDBPyConnection) -> None:
    q = simple(PlanMeasure("sum", "purchase", "value", "number"), EventParamBreakdown("payment_type", "string"))
    rows = both_dialects(con, q)
    assert totals(rows) == {D1: 50.0, D2: 70.5}


def test_derived_formulas_and_their_breakdowns(plan: QueryPlan, con: duckdb.DuckDBPyConnection) -> None:
    base = plan.kpis["revenue_per_new_user"]
    shifted = dataclasses.replace(base, kpi_id="probe", formula=parse_formula("(revenue - 10) / new_users"))
    probe_plan = QueryPlan({**plan.kpis, "probe": shifted})
    rows = both_dialects(con, shifted, probe_plan)
    assert rows == [(D1, "", "", 40.0, 4.0, 10.0), (D2, "", "", 60.5, 2.0, 30.25)]

    scaled = dataclasses.replace(base, kpi_id="probe", formula=parse_formula("-revenue * 2 + 1"), aggregation="mean")
    rows = both_dialects(con, scaled, QueryPlan({**plan.kpis, "probe": scaled}))
    assert rows == [(D1, "", "", -99.0, None, -99.0), (D2, "", "", -140.0, None, -140.0)]

    by_channel = dataclasses.replace(base, kpi_id="probe", breakdowns=(dimension("channel"),))
    rows = both_dialects(con, by_channel, QueryPlan({**plan.kpis, "probe": by_channel}))
    values = {(r[0], r[2]): r[5] for r in rows if r[1] == "channel"}
    # revenue by channel over new users by channel; a channel without purchases had revenue 0; on 2 March
    # u2-b's and u4-b's purchases carry their earlier clicks (Paid Social, Referral), channels without a new
    # user that day: no ratio
    assert values == {(D1, "Paid Search"): 50.0, (D1, "Email"): 0.0, (D1, "Paid Social"): 0.0,
                      (D1, "Referral"): 0.0, (D2, "Direct"): 20.0, (D2, "Organic Search"): 0.0,
                      (D2, "Paid Social"): None, (D2, "Referral"): None}
