"""The demo property: deterministic, in the export shape, and realistic enough to be worth measuring."""

from __future__ import annotations

from datetime import date

import duckdb
import pyarrow as pa
import pytest

from warehouse.schema import ARROW_SCHEMA
from warehouse.sources.demo import generate_demo_events, iter_demo_days

SMALL = {"events": 3_000, "days": 5, "end_date": date(2024, 1, 31)}


def over(table: pa.Table) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the table as `e` and a `param(event_params, key)` macro."""
    con = duckdb.connect()
    con.register("e", table)
    con.execute("CREATE MACRO param(params, name) AS list_filter(params, lambda p: p.key = name)[1].value")
    return con


def scalar(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchall()[0][0]


def test_same_seed_same_events_other_seed_other_events():
    first = generate_demo_events(seed=1, **SMALL)
    assert first.equals(generate_demo_events(seed=1, **SMALL))
    assert not first.equals(generate_demo_events(seed=2, **SMALL))


def test_shape_is_the_ga4_events_schema_and_the_count_is_exact(demo_table):
    assert demo_table.schema.equals(ARROW_SCHEMA)
    assert demo_table.num_rows == 6_000
    days = [day for day, _ in iter_demo_days(events=100, days=3, seed=1, end_date=date(2024, 2, 29))]
    assert days == ["20240227", "20240228", "20240229"]


def test_every_event_carries_the_session_params(demo_table):
    con = over(demo_table)
    missing = scalar(con, """
        SELECT count(*) FROM e WHERE param(event_params, 'ga_session_id').int_value IS NULL
           OR param(event_params, 'ga_session_number').int_value IS NULL
           OR param(event_params, 'page_location').string_value NOT LIKE 'https://shop.example/%'
           OR param(event_params, 'engagement_time_msec').int_value IS NULL
           OR event_date <> strftime(make_timestamp(event_timestamp), '%Y%m%d')
    """)  # fmt: skip
    assert missing == 0
    assert scalar(con, "SELECT count(*) FROM e WHERE param(event_params, 'session_engaged').string_value = '1'") > 0


def test_sessions_number_per_user_and_users_return_on_other_days(campaign_table):
    con = over(campaign_table)
    con.execute("""CREATE VIEW s AS SELECT DISTINCT user_pseudo_id, event_date,
        param(event_params, 'ga_session_id').int_value AS sid,
        param(event_params, 'ga_session_number').int_value AS n FROM e""")
    misnumbered = scalar(con, """SELECT count(*) FROM (SELECT n, row_number() OVER (PARTITION BY user_pseudo_id
        ORDER BY sid) AS expected FROM s) WHERE n <> expected""")
    assert misnumbered == 0
    returning = scalar(con, "SELECT count(*) FROM (SELECT user_pseudo_id FROM s GROUP BY 1 HAVING count(DISTINCT event_date) > 1)")
    assert returning > 500
    assert scalar(con, "SELECT count(*) FROM e WHERE event_name = 'first_visit'") == scalar(
        con, "SELECT count(DISTINCT user_pseudo_id) FROM e"
    )


def test_funnel_narrows_at_every_step(campaign_table):
    con = over(campaign_table)
    users = dict(con.execute("SELECT event_name, count(DISTINCT user_pseudo_id) FROM e GROUP BY 1").fetchall())
    assert users["view_item"] > users["add_to_cart"] > users["begin_checkout"] > users["purchase"] > 0
    assert users["sign_up"] > 0 and users["generate_lead"] > 0


def test_devices_convert_differently(campaign_table):
    con = over(campaign_table)
    rate = dict(con.execute("""SELECT device.category,
        count(DISTINCT CASE WHEN event_name = 'purchase' THEN user_pseudo_id END) / count(DISTINCT user_pseudo_id)
        FROM e GROUP BY 1""").fetchall())
    assert rate["desktop"] > rate["mobile"]


def test_traffic_sources_look_like_ga4(campaign_table):
    con = over(campaign_table)
    sources = {row[0] for row in con.execute("""SELECT DISTINCT collected_traffic_source.manual_source || ' / ' ||
        collected_traffic_source.manual_medium FROM e WHERE collected_traffic_source IS NOT NULL""").fetchall()}
    assert sources == {"google / organic", "google / cpc", "facebook / paid_social", "newsletter / email",
                       "partner-blog.example / referral"}  # fmt: skip
    assert scalar(con, """SELECT bool_and((collected_traffic_source.gclid IS NOT NULL) =
        (collected_traffic_source.manual_medium = 'cpc')) FROM e WHERE collected_traffic_source IS NOT NULL""")
    # (direct) sessions carry no collected_traffic_source at all
    assert scalar(con, "SELECT count(*) FROM e WHERE event_name = 'session_start' AND collected_traffic_source IS NULL") > 0
    countries = {r[0] for r in con.execute("SELECT DISTINCT geo.country FROM e").fetchall()}
    assert {"Germany", "United States", "United Kingdom", "France", "Netherlands", "Austria"} <= countries


def test_campaign_lifts_paid_social_in_the_middle_third(campaign_table):
    con = over(campaign_table)
    per_day = con.execute("""SELECT event_date, count(*) FILTER (collected_traffic_source.manual_medium = 'paid_social')
        FROM e WHERE event_name = 'session_start' GROUP BY 1 ORDER BY 1""").fetchall()
    sessions = [n for _, n in per_day]
    inside, outside = sessions[10:20], sessions[:10] + sessions[20:]
    assert sum(inside) / len(inside) > 2 * sum(outside) / len(outside)
    campaigns = con.execute("""SELECT DISTINCT event_date FROM e
        WHERE collected_traffic_source.manual_campaign_name = 'winter_sale' ORDER BY 1""").fetchall()
    assert [d for (d,) in campaigns] == [d for d, _ in per_day[10:20]]


def test_purchases_have_transactions_and_some_repeat_one(campaign_table):
    con = over(campaign_table)
    con.execute("""CREATE VIEW p AS SELECT param(event_params, 'transaction_id').string_value AS tid,
        param(event_params, 'value') AS value, ecommerce FROM e WHERE event_name = 'purchase'""")
    assert scalar(con, "SELECT count(*) FROM (SELECT tid FROM p WHERE tid IS NOT NULL GROUP BY 1 HAVING count(*) > 1)") > 0
    assert scalar(con, "SELECT bool_and(ecommerce.transaction_id = tid AND ecommerce.purchase_revenue > 0) FROM p WHERE tid IS NOT NULL")
    assert scalar(con, "SELECT count(*) FROM p WHERE value.int_value IS NOT NULL") > 0  # whole numbers
    assert scalar(con, "SELECT count(*) FROM p WHERE value.double_value IS NOT NULL") > 0


def test_a_small_share_of_events_is_malformed(campaign_table):
    con = over(campaign_table)
    kinds = con.execute("""SELECT
        count(*) FILTER (event_name = 'purchase' AND param(event_params, 'transaction_id') IS NULL),
        count(*) FILTER (param(event_params, 'value').string_value IS NOT NULL),
        count(*) FILTER (param(event_params, 'page_location').string_value LIKE '%@%'),
        count(*) FILTER (param(event_params, 'lead_source').string_value LIKE '%@%'),
        count(*) FROM e""").fetchall()[0]
    missing_id, value_as_text, pii_url, pii_lead, total = kinds
    assert min(missing_id, value_as_text, pii_url, pii_lead) > 0
    assert 0.002 < (missing_id + value_as_text + pii_url + pii_lead) / total < 0.01
    assert scalar(con, "SELECT bool_and(param(event_params, 'value').string_value SIMILAR TO '[0-9]+\\.[0-9]{2}') "
                       "FROM e WHERE param(event_params, 'value').string_value IS NOT NULL")  # fmt: skip


@pytest.mark.parametrize(("events", "days"), [(0, 1), (5, 10)])
def test_too_few_events_is_a_clear_error(events, days):
    with pytest.raises(ValueError, match="at least"):
        next(iter_demo_days(events=events, days=days, seed=1, end_date=date(2024, 1, 31)))
