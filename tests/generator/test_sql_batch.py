"""The batch statement (`render_plan_sql`): many KPIs in one read of the events, exactly the per-KPI rows.

Equality is exact (no tolerance): on the hand-made export and on a demo property, for the example KPIs and
for probes that take every path of the batch (the session roll-up with event- and session-scoped breakdowns
and conditions, duplicate purchases, conversions whose window reads past `end_date`, derived KPIs).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Literal

import duckdb
import pytest
import sqlglot
from sql_support import bigquery_as_duckdb, connect_with_events, fixture_module

from generator.ga4.dimensions import DIMENSIONS
from generator.plan.formula import parse_formula
from generator.plan.queries import (
    ConversionQuery,
    DerivedQuery,
    DimensionBreakdown,
    EventParamBreakdown,
    KpiQuery,
    MeasureKind,
    PlanBreakdown,
    PlanConversion,
    PlanFilter,
    PlanMeasure,
    QueryPlan,
    RatioQuery,
    SimpleQuery,
    compile_plan,
)
from generator.rules.validate import validate_paths
from generator.sql import BATCH_COLUMNS, render_plan_sql, render_sql
from generator.sql.batch import statement_reach
from warehouse.sources.demo import generate_demo_events

REPO = Path(__file__).resolve().parents[2]
FX = fixture_module()


def dimension(name: str) -> PlanBreakdown:
    return DimensionBreakdown(name)


def param(name: str) -> PlanBreakdown:
    return EventParamBreakdown(name, "string")


def simple(kid: str, measure: PlanMeasure, *breakdowns: PlanBreakdown) -> KpiQuery:
    return SimpleQuery(kpi_id=kid, breakdowns=breakdowns, definition_hash="0" * 16, measure=measure)


def ratio(kid: str, numerator: PlanMeasure, denominator: PlanMeasure, *breakdowns: PlanBreakdown) -> KpiQuery:
    return RatioQuery(kpi_id=kid, breakdowns=breakdowns, definition_hash="0" * 16, numerator=numerator,
                      denominator=denominator)


def conversion(kid: str, start: str, end: str, seconds: int, per: Literal["user", "session"],
               *breakdowns: PlanBreakdown) -> KpiQuery:
    kind: MeasureKind = "users_with" if per == "user" else "sessions_with"
    conv = PlanConversion(PlanMeasure(kind, start), PlanMeasure(kind, end), seconds, per)
    return ConversionQuery(kpi_id=kid, breakdowns=breakdowns, definition_hash="0" * 16, conversion=conv)


def example_plan() -> QueryPlan:
    result = validate_paths([REPO / "kpis"])
    assert not result.report.errors
    return compile_plan(result.catalog)


def probe_plan() -> QueryPlan:
    """KPIs the examples do not have, one per path of the batch."""
    paid = PlanFilter("dimension", "channel", "starts_with", "Paid")
    abroad = PlanFilter("dimension", "country", "in", ("Austria", "France"))
    card = PlanFilter("param", "payment_type", "not_equals", "card")
    probes = [
        simple("sessions_by_everything", PlanMeasure("sessions"), *(dimension(n) for n in sorted(DIMENSIONS))),
        simple("paid sessions", PlanMeasure("sessions", filters=(paid,)), dimension("device_category")),
        simple("sessions_abroad", PlanMeasure("sessions", filters=(abroad,)), dimension("channel")),
        simple("engaged", PlanMeasure("engaged_sessions"), dimension("channel"), dimension("country"),
               dimension("landing_page")),
        ratio("paid_buying_sessions", PlanMeasure("sessions_with", "purchase", filters=(paid, card)),
              PlanMeasure("sessions_with", "view_item"), param("payment_type"), dimension("browser")),
        simple("buyers", PlanMeasure("users_with", "purchase"), dimension("channel")),
        simple("users", PlanMeasure("users"), dimension("device_category")),
        simple("new_users", PlanMeasure("new_users"), dimension("country")),
        ratio("leads_per_session", PlanMeasure("count", "generate_lead"), PlanMeasure("sessions"),
              dimension("medium")),
        simple("revenue_by_source", PlanMeasure("sum", "purchase", "value", "number"), dimension("source"),
               dimension("page_path")),
        simple("average_lead_value", PlanMeasure("average", "generate_lead", "value", "number"), param("lead_source")),
        conversion("checkout_in_session", "begin_checkout", "purchase", 3600, "session", dimension("channel")),
        conversion("cart_to_purchase_week", "add_to_cart", "purchase", 7 * 86400, "user", dimension("landing_page")),
    ]
    kpis = {q.kpi_id: q for q in probes}
    derived = DerivedQuery(kpi_id="revenue_per_user", breakdowns=(dimension("source"),), definition_hash="0" * 16,
                           formula=parse_formula("(revenue_by_source - 1) / users"),
                           components=("revenue_by_source", "users"), events=(), aggregation="ratio")
    return QueryPlan({**kpis, derived.kpi_id: derived})


def per_kpi_rows(con: duckdb.DuckDBPyConnection, plan: QueryPlan, start: str, end: str,
                 kpi_ids: list[str] | None = None) -> list[tuple]:
    rows = []
    for kid in kpi_ids or list(plan.kpis):
        sql = render_sql(plan.kpis[kid], plan, "duckdb")
        rows += [(kid, *r) for r in con.execute(sql, {"start_date": start, "end_date": end}).fetchall()]
    return sorted(rows, key=repr)


def batch_rows(con: duckdb.DuckDBPyConnection, sql: str, start: str, end: str) -> list[tuple]:
    cursor = con.execute(sql, {"start_date": start, "end_date": end})
    assert [d[0] for d in cursor.description] == list(BATCH_COLUMNS)
    return sorted(cursor.fetchall(), key=repr)


@pytest.fixture(scope="module")
def fixture_con() -> duckdb.DuckDBPyConnection:
    return connect_with_events()


@pytest.fixture(scope="module")
def demo_con() -> duckdb.DuckDBPyConnection:
    return connect_with_events(generate_demo_events(events=30_000, days=12, seed=11, end_date=date(2024, 5, 31)))


PLANS = {"examples": example_plan, "probes": probe_plan}


@pytest.mark.parametrize("plan_name", sorted(PLANS))
def test_the_batch_gives_exactly_the_per_kpi_rows_on_the_hand_made_export(plan_name: str, fixture_con) -> None:
    plan = PLANS[plan_name]()
    sql = render_plan_sql(plan, "duckdb")
    for start, end in ((FX.START, FX.END), (FX.END, FX.END), ("20240229", "20240303")):
        expected = per_kpi_rows(fixture_con, plan, start, end)
        assert expected, (start, end)
        assert batch_rows(fixture_con, sql, start, end) == expected, (start, end)


@pytest.mark.parametrize("plan_name", sorted(PLANS))
def test_the_batch_gives_exactly_the_per_kpi_rows_on_a_demo_property(plan_name: str, demo_con) -> None:
    plan = PLANS[plan_name]()
    sql = render_plan_sql(plan, "duckdb")
    for start, end in (("20240520", "20240531"), ("20240524", "20240526")):
        assert batch_rows(demo_con, sql, start, end) == per_kpi_rows(demo_con, plan, start, end), (start, end)


@pytest.mark.parametrize("plan_name", sorted(PLANS))
def test_each_kpi_alone_in_a_batch_gives_its_own_rows(plan_name: str, fixture_con) -> None:
    """A batch of one KPI: the shared CTEs it needs and no others (no roll-up without a session KPI, …)."""
    plan = PLANS[plan_name]()
    for kid in plan.kpis:
        sql = render_plan_sql(plan, "duckdb", [kid])
        for start, end in ((FX.START, FX.END), (FX.END, FX.END)):
            assert batch_rows(fixture_con, sql, start, end) == per_kpi_rows(fixture_con, plan, start, end, [kid]), kid


def test_a_subset_of_kpis_computes_only_those_with_what_they_derive_from(demo_con) -> None:
    plan = probe_plan()
    wanted = ["revenue_per_user", "checkout_in_session", "paid sessions"]
    rows = batch_rows(demo_con, render_plan_sql(plan, "duckdb", wanted), "20240524", "20240531")
    assert {r[0] for r in rows} == set(wanted)
    assert rows == per_kpi_rows(demo_con, plan, "20240524", "20240531", wanted)
    with pytest.raises(ValueError, match="not in the plan: nope"):
        render_plan_sql(plan, "duckdb", ["sessions_abroad", "nope"])


def test_the_bigquery_batch_is_one_statement_that_gives_the_same_rows(fixture_con) -> None:
    plan = example_plan()
    sql = render_plan_sql(plan, "bigquery")
    statements = sqlglot.parse(sql, read="bigquery")
    assert len(statements) == 1 and statements[0].named_selects == list(BATCH_COLUMNS)
    assert "MATERIALIZED" not in sql and "$start_date" not in sql and "@start_date" in sql
    assert "_TABLE_SUFFIX BETWEEN @start_date AND " in sql and "LIST_FILTER" not in sql
    duckdb_sql = render_plan_sql(plan, "duckdb")
    assert batch_rows(fixture_con, bigquery_as_duckdb(sql), FX.START, FX.END) == batch_rows(
        fixture_con, duckdb_sql, FX.START, FX.END)


def test_the_events_are_read_at_most_twice_per_scope_whatever_the_number_of_kpis(fixture_con) -> None:
    """Once in full (the session roll-up), once for the events the other KPIs read; a conversion's extra days
    make a second scope; once more, for every scope together, the lookback days before `start_date` whose
    clicks a direct session may carry, of the users it lists only (`dialects.LookbackUsers`). The shared CTEs are computed once (MATERIALIZED), the scan is not stored."""
    for plan in (example_plan(), probe_plan()):
        sql = render_plan_sql(plan, "duckdb")
        assert re.search(r"\bscanned_events AS NOT MATERIALIZED", sql)
        assert re.search(r"\bsession_days AS MATERIALIZED", sql)
        explained = fixture_con.execute("EXPLAIN " + sql, {"start_date": FX.START, "end_date": FX.END}).fetchall()
        scans = re.findall(r"Table: (?:\w+\.)*events\b", explained[0][1])
        assert 1 <= len(scans) <= 6, len(scans)


@pytest.mark.parametrize("plan_name", sorted(PLANS))
def test_the_reach_is_the_days_past_end_date_the_batch_scans(plan_name: str) -> None:
    """`statement_reach` (which sizes the periods statement's `$period_days`) is the number of days after
    `end_date` the batch statement's scan reads, for the whole plan and for each KPI alone."""
    plan = PLANS[plan_name]()
    for ids in [list(plan.kpis), *([kid] for kid in plan.kpis)]:
        sql = render_plan_sql(plan, "duckdb", ids)
        moved = [int(n) for n in re.findall(r"STRPTIME\(\$end_date, '%Y%m%d'\) AS DATE\) \+ INTERVAL (\d+) DAY", sql)]
        assert statement_reach(plan, ids) == max(moved, default=0), ids
    assert plan_name != "probes" or statement_reach(plan) > 0  # the probes have a conversion


def test_params_read_on_a_few_events_only_are_told_apart_from_those_read_on_every_event() -> None:
    """`params_on_few_events`: the params a batch scan reads under `event_name IN (…)` only (the warehouse keeps
    those as lists of the event's params of that name); one read on every event anywhere is not one of them."""
    from generator.sql.attribution_methods import build_methods_query
    from generator.sql.batch import build_plan_query
    from generator.sql.scan import params_on_few_events

    examples = [build_plan_query(example_plan()), build_methods_query()]
    assert params_on_few_events(examples) == {"value", "method", "lead_source", "payment_type"}
    everywhere = PlanFilter("param", "payment_type", "not_equals", "card")
    plan = QueryPlan({q.kpi_id: q for q in [
        simple("revenue", PlanMeasure("sum", "purchase", "value", "number"), param("payment_type")),
        simple("sessions_not_by_card", PlanMeasure("sessions", filters=(everywhere,))),  # payment_type on every event
    ]})
    assert params_on_few_events([build_plan_query(plan)]) == {"value"}
