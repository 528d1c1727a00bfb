"""Session attribution on every GA4 export era (ga4.md §11): the SQL runs on each shape and attributes by
last non-direct click; GA4's own channel group wins where the export has it.

The expected channels are worked out by hand below, from the events written here, not by our code.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pytest

from generator.plan.queries import DimensionBreakdown, KpiQuery, PlanMeasure, QueryPlan, SimpleQuery
from generator.sql import render_sql
from generator.sql.export_shape import ERAS
from warehouse.schema.events import create_table_sql

DAY1, DAY2 = "20240601", "20240602"
D1, D2 = "2024-06-01", "2024-06-02"


def _lc(source: str, medium: str, channel: str | None) -> str:
    manual = f"{{'campaign_id': NULL, 'campaign_name': NULL, 'source': '{source}', 'medium': '{medium}', 'term': NULL, 'content': NULL}}"
    cross = ("NULL" if channel is None else
             f"{{'campaign_id': NULL, 'campaign_name': NULL, 'source': '{source}', 'medium': '{medium}', "
             f"'source_platform': NULL, 'default_channel_group': '{channel}', 'primary_channel_group': '{channel}'}}")
    return f"{{'manual_campaign': {manual}, 'google_ads_campaign': NULL, 'cross_channel_campaign': {cross}}}"


# (user, session id, day, seconds into the day, page_location, collected (source, medium) or None, last click SQL)
EVENTS = [
    # a: e-mail visit on day 1 (UTM in the URL and collected); day 2 direct -> carries Email
    ("a", 1, DAY1, 100, "https://s.example/?utm_source=newsletter&utm_medium=email", ("newsletter", "email"), None),
    ("a", 2, DAY2, 100, "https://s.example/", None, None),
    # b: direct, no earlier click -> Direct
    ("b", 1, DAY2, 200, "https://s.example/", None, None),
    # c: GA4 says Cross-network; its manual campaign is google / cpc (Paid Search by the rules)
    ("c", 1, DAY1, 300, "https://s.example/", None, _lc("google", "cpc", "Cross-network")),
    # d: gclid in the URL only (auto-tagging) -> google / cpc -> Paid Search
    ("d", 1, DAY1, 400, "https://s.example/?gclid=abc", None, None),
    # e: a Paid Social click 10 days before day 1 (inside the lookback) -> carried on day 1
    ("e", 1, "20240522", 500, "https://s.example/?utm_source=facebook&utm_medium=paid_social", ("facebook", "paid_social"), None),
    ("e", 2, DAY1, 500, "https://s.example/", None, None),
    # f: a click 40 days before day 1 (outside the 30-day lookback) -> Direct
    ("f", 1, "20240422", 600, "https://s.example/?utm_source=facebook&utm_medium=paid_social", ("facebook", "paid_social"), None),
    ("f", 2, DAY1, 600, "https://s.example/", None, None),
    # g: an e-mail visit on day 1 that GA4 attributed itself too; day 2 without GA4's attribution -> carries
    # g's own e-mail click (a session with both gives a click to carry)
    ("g", 1, DAY1, 700, "https://s.example/?utm_source=newsletter&utm_medium=email", ("newsletter", "email"),
     _lc("newsletter", "email", "Email")),
    ("g", 2, DAY2, 700, "https://s.example/", None, None),
    # h: GA4 says Organic Search on day 1 and h collected no click; day 2 without GA4's attribution -> Direct
    ("h", 1, DAY1, 800, "https://s.example/", None, _lc("google", "organic", "Organic Search")),
    ("h", 2, DAY2, 800, "https://s.example/", None, None),
]


def _insert(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(create_table_sql("all_events"))
    for user, sid, day, second, url, collected, last_click in EVENTS:
        ts = (int(datetime.strptime(day, "%Y%m%d").replace(tzinfo=UTC).timestamp()) + second) * 1_000_000
        cts = "NULL" if collected is None else (
            f"{{'manual_campaign_name': NULL, 'manual_source': '{collected[0]}', 'manual_medium': '{collected[1]}', "
            "'gclid': NULL}")
        con.execute(f"""INSERT INTO all_events BY NAME SELECT '{day}' AS event_date, {ts} AS event_timestamp,
            'page_view' AS event_name, '{user}' AS user_pseudo_id,
            [{{'key': 'ga_session_id', 'value': {{'string_value': NULL, 'int_value': {sid}, 'float_value': NULL,
               'double_value': NULL}}}},
             {{'key': 'page_location', 'value': {{'string_value': '{url}', 'int_value': NULL, 'float_value': NULL,
               'double_value': NULL}}}}] AS event_params,
            {cts} AS collected_traffic_source, {last_click or 'NULL'} AS session_traffic_source_last_click""")


# what each era's export holds: the columns it lacks are left out of `events` (a binder error if read)
SHAPES = {
    "legacy": "SELECT * EXCLUDE (collected_traffic_source, session_traffic_source_last_click) FROM all_events",
    "collected": "SELECT * EXCLUDE (session_traffic_source_last_click) FROM all_events",
    "last_click": """SELECT * REPLACE ({'manual_campaign': session_traffic_source_last_click.manual_campaign,
        'google_ads_campaign': session_traffic_source_last_click.google_ads_campaign}
        AS session_traffic_source_last_click) FROM all_events""",
    "cross_channel": "SELECT * FROM all_events",
}

# by hand: sessions per (day, channel) in each era
COMMON_DAY2 = {(D2, "Email"): 2, (D2, "Direct"): 2}  # a and g carry their e-mail clicks; b and h are direct
EXPECTED = {
    # no collected_traffic_source: the URL's UTM still gives a, d, e, f, g their clicks; c and h have nothing
    "legacy": {(D1, "Email"): 2, (D1, "Direct"): 3, (D1, "Paid Search"): 1, (D1, "Paid Social"): 1, **COMMON_DAY2},
    "collected": {(D1, "Email"): 2, (D1, "Direct"): 3, (D1, "Paid Search"): 1, (D1, "Paid Social"): 1,
                  **COMMON_DAY2},
    # c's last click google / cpc, g's newsletter / email, h's google / organic, by the channel rules
    "last_click": {(D1, "Email"): 2, (D1, "Direct"): 1, (D1, "Paid Search"): 2, (D1, "Paid Social"): 1,
                   (D1, "Organic Search"): 1, **COMMON_DAY2},
    # GA4's own channel group for c, g and h wins over the rules
    "cross_channel": {(D1, "Email"): 2, (D1, "Direct"): 1, (D1, "Paid Search"): 1, (D1, "Cross-network"): 1,
                      (D1, "Paid Social"): 1, (D1, "Organic Search"): 1, **COMMON_DAY2},
}


def _sessions_by_channel() -> KpiQuery:
    return SimpleQuery(kpi_id="probe", breakdowns=(DimensionBreakdown("channel"),), definition_hash="0" * 16,
                       measure=PlanMeasure("sessions"))


@pytest.mark.parametrize("era", list(SHAPES))
def test_each_era_runs_and_attributes_by_last_non_direct_click(era: str) -> None:
    con = duckdb.connect()
    _insert(con)
    con.execute(f"CREATE VIEW events AS {SHAPES[era]}")
    q = _sessions_by_channel()
    sql = render_sql(q, QueryPlan({q.kpi_id: q}), "duckdb", export=ERAS[era])
    rows = con.execute(sql, {"start_date": DAY1, "end_date": DAY2}).fetchall()
    got = {(str(r[0]), r[2]): r[3] for r in rows if r[1] == "channel"}
    assert got == EXPECTED[era]
    assert {str(r[0]): r[3] for r in rows if r[1] == ""} == {D1: 7, D2: 4}


def test_the_newest_shape_fails_loudly_on_an_older_export() -> None:
    """Without the declared era the SQL names the column it needs (the file header lists them)."""
    con = duckdb.connect()
    _insert(con)
    con.execute(f"CREATE VIEW events AS {SHAPES['legacy']}")
    q = _sessions_by_channel()
    with pytest.raises(duckdb.BinderException, match="collected_traffic_source|session_traffic_source_last_click"):
        con.execute(render_sql(q, QueryPlan({q.kpi_id: q}), "duckdb"), {"start_date": DAY1, "end_date": DAY2})
