"""The attribution-method statement (which branch gave each day's sessions their channel) runs on every GA4 export
era and names the method the era allows; the era builders and events are those of test_sql_attribution_eras.

Expected counts worked out by hand from those events: on day 1, a (UTM), d (gclid) and e (carries a click of 10
days before) are derived from UTM, f (its click is 40 days old) has none, c and h are whatever the era says of
GA4's last click (none before it), and g is that too where the era has it, else its own UTM; on day 2, a and g
carry their day-1 clicks and b and h have none."""

from __future__ import annotations

import duckdb
import pytest
from test_sql_attribution_eras import DAY1, DAY2, EXPECTED, SHAPES, _insert

from generator.plan.queries import (
    ConversionQuery,
    DimensionBreakdown,
    KpiQuery,
    PlanConversion,
    PlanMeasure,
    QueryPlan,
    SimpleQuery,
)
from generator.rules.value_uses import Subject
from generator.sql.attribution import METHODS
from generator.sql.attribution_methods import render_methods_sql
from generator.sql.batch import MethodsUnsupported, render_plan_sql
from generator.sql.dimensions import SESSION_DIMENSIONS
from generator.sql.export_shape import ERAS
from generator.sql.sessions import METHOD, session_ctes
from generator.sql.values import render_values_sql

D1, D2 = "2024-06-01", "2024-06-02"
C_BY_ERA = {"legacy": "none", "collected": "none", "last_click": "last_click", "cross_channel": "ga4_channel_group"}
G_BY_ERA = {**C_BY_ERA, "legacy": "derived_from_utm", "collected": "derived_from_utm"}


@pytest.mark.parametrize("era", list(SHAPES))
def test_each_era_counts_sessions_by_the_method_it_allows(era: str) -> None:
    con = duckdb.connect()
    _insert(con)
    con.execute(f"CREATE VIEW events AS {SHAPES[era]}")
    rows = con.execute(render_methods_sql("duckdb", ERAS[era]), {"start_date": DAY1, "end_date": DAY2}).fetchall()
    got = {(str(d), m): n for d, m, n in rows}
    want = {(D1, "derived_from_utm"): 3, (D1, "none"): 1, (D2, "derived_from_utm"): 2, (D2, "none"): 2}
    for method in (C_BY_ERA[era], C_BY_ERA[era], G_BY_ERA[era]):  # c, h and g on day 1
        want[(D1, method)] = want.get((D1, method), 0) + 1
    assert got == want
    assert {m for _, m in got} <= set(METHODS)


def _run(con, sql: str) -> list[tuple]:
    return con.execute(sql, {"start_date": DAY1, "end_date": DAY2}).fetchall()


@pytest.mark.parametrize("hashed", [False, True])
@pytest.mark.parametrize("era", list(SHAPES))
def test_with_session_dimensions_one_statement_also_gives_each_days_values(era: str, hashed: bool) -> None:
    """The warehouse reads the KPI files' session dimensions with the methods (one grouping by session for
    both): the methods' rows stay those of the statement alone, and each day's values are those of the values
    statement, each session once a day; the channels are the ones worked out by hand in test_sql_attribution_eras."""
    con = duckdb.connect()
    _insert(con)
    # and a cookieless ping on day 2: no session, so no method; its channel is (not set)
    con.execute(f"""INSERT INTO all_events BY NAME SELECT '{DAY2}' AS event_date, 1717290000000000 AS event_timestamp,
        'page_view' AS event_name, NULL AS user_pseudo_id, [{{'key': 'page_location', 'value': {{
            'string_value': 'https://s.example/', 'int_value': NULL, 'float_value': NULL, 'double_value': NULL}}}}]
        AS event_params""")
    con.execute(f"CREATE VIEW events AS {SHAPES[era]}")
    rows = _run(con, render_methods_sql("duckdb", ERAS[era], dimensions=SESSION_DIMENSIONS, limit=50,
                                        hashed_users=hashed))
    assert {(str(d), m): n for d, m, n, dim, _ in rows if dim is None} == {
        (str(d), m): n for d, m, n in _run(con, render_methods_sql("duckdb", ERAS[era]))}
    assert {(str(d), v) for d, _, _, dim, v in rows if dim == "channel"} == set(EXPECTED[era]) | {(D2, "(not set)")}
    for name in SESSION_DIMENSIONS:
        alone = _run(con, render_values_sql(Subject("dimension", name), "duckdb", 50, ERAS[era], per_day=True))
        assert {(d.strftime("%Y%m%d"), v) for d, _, _, dim, v in rows if dim == name} == set(alone), name
    # at most `limit` values a day, the first in order, as the values statement keeps them
    one = _run(con, render_methods_sql("duckdb", ERAS[era], dimensions=["channel"], limit=1))
    assert {(str(d), v) for d, _, _, dim, v in one if dim} == {
        (day, min({c for d, c in EXPECTED[era] if d == day} | ({"(not set)"} if day == D2 else set())))
        for day in (D1, D2)}


def test_a_days_values_and_hashed_users_are_for_duckdb_only() -> None:
    with pytest.raises(ValueError, match="DuckDB"):
        render_methods_sql("bigquery", dimensions=["channel"], limit=10)


def _plan(*queries: KpiQuery) -> QueryPlan:
    return QueryPlan({q.kpi_id: q for q in queries})


def _split(rows: list[tuple]) -> tuple[list[tuple], dict[tuple[str, str], int], set[tuple[str, str]]]:
    """A fused statement's rows: (the KPIs' rows, sessions by (day, method), (day, channel) values)."""
    kpis = [r for r in rows if r[0] is not None]
    methods = {(str(r[1]), r[3]): int(r[4]) for r in rows if r[0] is None and r[2] is None}
    channels = {(str(r[1]), r[3]) for r in rows if r[0] is None and r[2] == "channel"}
    return kpis, methods, channels


@pytest.mark.parametrize("era", list(SHAPES))
def test_the_kpis_statement_also_counts_the_methods_from_its_own_session_table(era: str) -> None:
    """A refresh counts the methods and a day's channels with the KPIs (`methods=`): one grouping of the events
    by session for both. Its KPI rows stay those of the statement without them, the methods are those worked out
    by hand above (c as the era allows), and the channels those of test_sql_attribution_eras, worked out by hand
    too; a KPI reading past the last day (a conversion's window) leaves the methods to the days asked for."""
    con = duckdb.connect()
    _insert(con)
    con.execute(f"CREATE VIEW events AS {SHAPES[era]}")
    by_channel = SimpleQuery(kpi_id="by_channel", breakdowns=(DimensionBreakdown("channel"),),
                             definition_hash="0" * 16, measure=PlanMeasure("sessions"))
    window = ConversionQuery(kpi_id="window", breakdowns=(), definition_hash="1" * 16,
                             conversion=PlanConversion(PlanMeasure("events", event="page_view"),
                                                       PlanMeasure("events", event="page_view"), 86400, "user"))
    want = {(D1, "derived_from_utm"): 3, (D1, "none"): 1, (D2, "derived_from_utm"): 2, (D2, "none"): 2}
    for method in (C_BY_ERA[era], C_BY_ERA[era], G_BY_ERA[era]):  # c, h and g on day 1
        want[(D1, method)] = want.get((D1, method), 0) + 1
    for plan, last in ((_plan(by_channel), DAY2), (_plan(by_channel, window), DAY1)):
        fused = render_plan_sql(plan, "duckdb", export=ERAS[era], methods=["channel"], methods_limit=50)
        params = {"start_date": DAY1, "end_date": last}
        kpis, methods, channels = _split(con.execute(fused, params).fetchall())
        alone = con.execute(render_plan_sql(plan, "duckdb", export=ERAS[era]), params).fetchall()
        assert kpis == alone
        days = {D1} if last == DAY1 else {D1, D2}
        assert methods == {k: n for k, n in want.items() if k[0] in days}
        assert channels == {k for k in EXPECTED[era] if k[0] in days}


def test_a_kpis_statement_without_the_sessions_of_its_days_leaves_the_methods_to_their_own() -> None:
    events = SimpleQuery(kpi_id="events", breakdowns=(), definition_hash="0" * 16,
                         measure=PlanMeasure("events", event="page_view"))
    with pytest.raises(MethodsUnsupported, match="sessions"):
        render_plan_sql(_plan(events), "duckdb", methods=["channel"], methods_limit=5)
    with pytest.raises(ValueError, match="day"):
        render_plan_sql(_plan(events), "duckdb", bucket="week", methods=["channel"], methods_limit=5)
    with pytest.raises(ValueError, match="DuckDB"):
        render_plan_sql(_plan(events), "bigquery", methods=["channel"], methods_limit=5)


def test_a_session_table_asked_wrongly_fails_when_it_is_built() -> None:
    """The attribution method comes with the channel, and a session table reading click ids attributes its sessions
    per pair of ids through the channel rules run once per source: asked otherwise, it fails as it is built, with
    why, not when DuckDB binds the statement."""
    with pytest.raises(ValueError, match="comes with its channel"):
        session_ctes({METHOD, "engaged"})
    with pytest.raises(ValueError, match="once per source"):
        session_ctes({"channel"}, rows=True, ids=True)
    names = [name for name, _ in session_ctes({"channel", METHOD}, rows=True, ids=True, channel_per_source=True)]
    assert names.index("session_pairs") < names.index("session_pair_channels") < names.index("sessions") == len(names) - 1
