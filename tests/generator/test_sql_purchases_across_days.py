"""The generated SQL counts a transaction id once over the whole history, whatever day its range starts on.

On the hand-made export, u1 buys (T1001) on 1 March and reloads the thank-you page on 2 March: a second
`purchase` with T1001. A range that starts on 2 March must not count it (issue 10 §3). Expected values are
computed here in plain SQL over the same events: a purchase counts when no purchase with its id came earlier.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import duckdb
import pytest
from sql_support import bigquery_as_duckdb, connect_with_events, run

from generator.plan.queries import PlanMeasure, QueryPlan, SimpleQuery, compile_plan
from generator.rules.validate import validate_paths
from generator.sql import render_plan_sql, render_sql
from generator.sql.export_shape import FIRST_PURCHASES, NEWEST

REPO = Path(__file__).resolve().parents[2]
PURCHASES = SimpleQuery(kpi_id="purchases", definition_hash="0" * 16, measure=PlanMeasure("count", "purchase"))
# every purchase once: the earliest of its transaction id (ids: GA4's placeholders are no id), or any without one
COUNTED = """
    WITH purchases AS (
        SELECT event_date, event_timestamp, NULLIF(NULLIF(ecommerce.transaction_id, ''), '(not set)') AS tid,
               coalesce(list_filter(event_params, lambda p: p.key = 'value')[1].value.int_value::DOUBLE,
                        list_filter(event_params, lambda p: p.key = 'value')[1].value.double_value,
                        TRY_CAST(list_filter(event_params, lambda p: p.key = 'value')[1].value.string_value AS DOUBLE))
                   AS value
        FROM events WHERE event_name = 'purchase'
    )
    SELECT count(*)::DOUBLE, sum(value) FROM purchases AS p
    WHERE event_date = $day AND (tid IS NULL OR NOT EXISTS (
        SELECT 1 FROM purchases AS q WHERE q.tid = p.tid AND q.event_timestamp < p.event_timestamp))
"""


@pytest.fixture(scope="module")
def plan() -> QueryPlan:
    result = validate_paths([REPO / "kpis"])
    assert not result.report.errors
    return QueryPlan({PURCHASES.kpi_id: PURCHASES, **compile_plan(result.catalog).kpis})


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    return connect_with_events()


def _total(rows, day: str) -> float | None:
    return next((r[5] for r in rows if r[0] == day and r[1] == ""), None)


def test_a_range_starting_after_a_transactions_first_day_does_not_count_its_repeat(plan, con) -> None:
    count, revenue = con.execute(COUNTED, {"day": "20240302"}).fetchone()
    everything = con.execute("SELECT count(*) FROM events WHERE event_name = 'purchase' AND event_date = '20240302'")
    assert count == everything.fetchone()[0] - 1  # the repeat of T1001 is on this day
    for sql in (render_sql(PURCHASES, plan, "duckdb"), bigquery_as_duckdb(render_sql(PURCHASES, plan, "bigquery"))):
        assert _total(run(con, sql, start="20240302", end="20240302"), "2024-03-02") == count
    revenue_sql = render_sql(plan.kpis["revenue"], plan, "duckdb")
    assert _total(run(con, revenue_sql, start="20240302", end="20240302"), "2024-03-02") == pytest.approx(revenue)


@pytest.mark.parametrize("kid", ["purchases", "revenue", "average_order_value", "session_conversion_rate",
                                 "cart_to_purchase_1d", "revenue_per_new_user"])
def test_a_days_purchases_do_not_depend_on_where_the_range_starts(kid: str, plan, con) -> None:
    """Every KPI that reads `purchase`: 2 March alone gives the rows 2 March has in 1–2 March, in the per-KPI
    statement (DuckDB and BigQuery) and in the batch statement `kpi refresh` runs."""
    whole = [r for r in run(con, render_sql(plan.kpis[kid], plan, "duckdb")) if r[0] == "2024-03-02"]
    assert whole
    for sql in (render_sql(plan.kpis[kid], plan, "duckdb"), bigquery_as_duckdb(render_sql(plan.kpis[kid], plan, "bigquery"))):
        assert run(con, sql, start="20240302", end="20240302") == whole
    batch = con.execute(render_plan_sql(plan, "duckdb", [kid]), {"start_date": "20240302", "end_date": "20240302"})
    rows = [(d.isoformat(), *rest) for _kid, d, *rest in batch.fetchall()]
    assert sorted(r for r in rows if r[0] == "2024-03-02") == sorted(whole)


def test_a_kpi_can_leave_out_purchases_without_a_transaction_id(plan, con) -> None:
    """`purchases_without_transaction_id: skip`: u5's two purchases without an id no longer count on 2 March."""
    skipping = SimpleQuery(kpi_id="purchases_with_id", definition_hash="1" * 16,
                           measure=PlanMeasure("count", "purchase", skip_without_transaction_id=True))
    count, _ = con.execute(COUNTED + " AND tid IS NOT NULL", {"day": "20240302"}).fetchone()
    without = con.execute("SELECT count(*) FROM events WHERE event_name = 'purchase' AND event_date = '20240302' "
                          "AND coalesce(ecommerce.transaction_id, '') IN ('', '(not set)')").fetchone()[0]
    assert without == 2
    for sql in (render_sql(skipping, plan, "duckdb"), bigquery_as_duckdb(render_sql(skipping, plan, "bigquery"))):
        assert _total(run(con, sql, start="20240302", end="20240302"), "2024-03-02") == count
        assert _total(run(con, sql), "2024-03-02") == count


def test_the_key_is_checked_with_a_suggestion(examples) -> None:
    examples.edit("revenue/revenue.yaml", lambda text: text + "purchases_without_transaction_id: skipp\n")
    issue = examples.only_issue("KB204")
    assert "Did you mean `skip`?" in issue.message and issue.location.line == examples.line_of(
        "revenue/revenue.yaml", "purchases_without_transaction_id")


def test_skipping_changes_only_that_kpis_definition(examples) -> None:
    before = compile_plan(validate_paths([examples.path("")]).catalog)
    examples.edit("revenue/revenue.yaml", lambda text: text + "purchases_without_transaction_id: skip\n")
    after = compile_plan(validate_paths([examples.path("")]).catalog)
    assert after.kpis["revenue"].definition_hash != before.kpis["revenue"].definition_hash
    assert after.kpis["revenue"].measure.skip_without_transaction_id
    assert after.kpis["sessions"].definition_hash == before.kpis["sessions"].definition_hash


@pytest.mark.parametrize("kid", ["purchases", "revenue", "session_conversion_rate", "revenue_per_new_user"])
def test_beside_each_ids_first_purchase_the_statement_reads_them_and_gives_the_same_rows(kid: str, plan, con) -> None:
    """A warehouse refresh hands its statements each transaction id's first purchase (`FIRST_PURCHASES`, one row
    per id): the batch statement then reads the purchases' history there, not from the events, and 2 March gives
    the rows of the statement reading every earlier purchase (T1001 seen on 1 March stays left out)."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {FIRST_PURCHASES} AS
        SELECT min(event_date) AS event_date, 'purchase' AS event_name, {{'transaction_id': tid}} AS ecommerce
        FROM (SELECT event_date, NULLIF(NULLIF(ecommerce.transaction_id, ''), '(not set)') AS tid FROM events
              WHERE event_name = 'purchase') WHERE tid IS NOT NULL GROUP BY tid""")
    try:
        beside = replace(NEWEST, first_purchases=True)
        reading = render_plan_sql(plan, "duckdb", [kid], export=beside)
        assert FIRST_PURCHASES in reading and FIRST_PURCHASES not in render_plan_sql(plan, "duckdb", [kid])
        day = {"start_date": "20240302", "end_date": "20240302"}
        assert sorted(con.execute(reading, day).fetchall()) == sorted(
            con.execute(render_plan_sql(plan, "duckdb", [kid]), day).fetchall())
    finally:
        con.execute(f"DROP TABLE {FIRST_PURCHASES}")
