"""Buckets (`generator/sql/buckets.py`): one row per ISO week, month or whole period, every distinct count exact.

The per-KPI and batch statements agree with each other for every bucket (also with conversions reading past
`end_date` next to KPIs that do not), the BigQuery SQL agrees with the DuckDB SQL, and the numbers equal
distinct counts written here in plain SQL over the same events.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pytest
from sql_support import bigquery_as_duckdb, connect_with_events, fixture_module
from test_sql_batch import batch_rows, example_plan, probe_plan

from generator.sql import render_plan_sql, render_sql
from warehouse.sources.demo import generate_demo_events

PLANS = {"examples": example_plan, "probes": probe_plan}
START, END = "20240522", "20240529"  # Wednesday to Wednesday: partial weeks at both ends, two months


@pytest.fixture(scope="module")
def demo_con() -> duckdb.DuckDBPyConnection:
    return connect_with_events(generate_demo_events(events=30_000, days=12, seed=11, end_date=date(2024, 5, 31)))


def per_kpi(con, plan, bucket: str, start: str = START, end: str = END) -> list[tuple]:
    rows = []
    for kid, q in plan.kpis.items():
        sql = render_sql(q, plan, "duckdb", bucket=bucket)  # type: ignore[arg-type]
        rows += [(kid, *r) for r in con.execute(sql, {"start_date": start, "end_date": end}).fetchall()]
    return sorted(rows, key=repr)


def distinct(con, what: str, where: str, start: str, end: str) -> int:
    sql = f"SELECT count(DISTINCT {what}) FROM events WHERE event_date BETWEEN $a AND $b AND {where}"
    return con.execute(sql, {"a": start, "b": end}).fetchone()[0]


SESSION = ("user_pseudo_id || '.' || (list_filter(event_params, lambda p: p.key = 'ga_session_id')[1]"
           ".value.int_value)::VARCHAR")


@pytest.mark.parametrize("bucket", ["week", "month", "period"])
@pytest.mark.parametrize("plan_name", sorted(PLANS))
def test_the_batch_gives_the_per_kpi_rows_for_every_bucket(plan_name, bucket, demo_con) -> None:
    plan = PLANS[plan_name]()
    assert batch_rows(demo_con, render_plan_sql(plan, "duckdb", bucket=bucket), START, END) == per_kpi(
        demo_con, plan, bucket)


@pytest.mark.parametrize("bucket", ["week", "period"])
def test_distinct_users_sessions_and_buyers_over_buckets(bucket, demo_con) -> None:
    plan = probe_plan()
    rows = {(r[0], r[1]): r for r in per_kpi(demo_con, plan, bucket) if r[2] == ""}
    ranges = {"period": [("20240522", "20240529")], "week": [("20240522", "20240526"), ("20240527", "20240529")]}
    starts = {"period": ["2024-05-22"], "week": ["2024-05-20", "2024-05-27"]}  # the bucket's first day
    for (first, last), day in zip(ranges[bucket], starts[bucket], strict=True):
        when = date.fromisoformat(day)
        users = distinct(demo_con, "user_pseudo_id", "true", first, last)
        sessions = distinct(demo_con, SESSION, f"{SESSION} IS NOT NULL", first, last)
        buyers = distinct(demo_con, "user_pseudo_id", "event_name = 'purchase'", first, last)
        assert rows[("users", when)][6] == users
        assert rows[("sessions_by_everything", when)][6] == sessions
        assert rows[("buyers", when)][6] == buyers
        daily = sum(distinct(demo_con, "user_pseudo_id", "true", d, d)
                    for d in (f"202405{n}" for n in range(int(first[-2:]), int(last[-2:]) + 1)))
        assert daily > users  # the test data has users on several days: a sum of days would fail


@pytest.mark.parametrize("bucket", ["week", "month", "period"])
def test_bigquery_buckets_give_the_duckdb_rows_on_the_hand_made_export(bucket) -> None:
    con = connect_with_events()
    fx = fixture_module()
    plan = example_plan()
    params = {"start_date": fx.START, "end_date": fx.END}
    for q in plan.kpis.values():
        ours = con.execute(render_sql(q, plan, "duckdb", bucket=bucket), params).fetchall()  # type: ignore[arg-type]
        theirs = con.execute(bigquery_as_duckdb(render_sql(q, plan, "bigquery", bucket=bucket)),  # type: ignore[arg-type]
                             params).fetchall()
        assert sorted(ours, key=repr) == pytest.approx(sorted(theirs, key=repr)), q.kpi_id
        assert {r[0] for r in ours} <= {date(2024, 3, 1) if bucket != "week" else date(2024, 2, 26)}


def test_the_hand_made_export_over_its_period() -> None:
    con = connect_with_events()
    fx = fixture_module()
    plan = example_plan()
    sql = render_sql(plan.kpis["sessions"], plan, "duckdb", bucket="period")
    total = [r for r in con.execute(sql, {"start_date": fx.START, "end_date": fx.END}).fetchall() if r[1] == ""]
    assert total == [(date(2024, 3, 1), "", "", float(distinct(con, SESSION, f"{SESSION} IS NOT NULL", fx.START,
                                                                  fx.END)), None, total[0][5])]


def test_the_day_bucket_is_the_default_and_unknown_buckets_are_refused() -> None:
    plan = example_plan()
    q = plan.kpis["sessions"]
    assert render_sql(q, plan, "duckdb", bucket="day") == render_sql(q, plan, "duckdb")
    with pytest.raises(ValueError, match="unknown bucket 'year'"):
        render_sql(q, plan, "duckdb", bucket="year")  # type: ignore[arg-type]
