"""Each loaded day's values read once and kept (`warehouse/observed_values.py`, issue 13 §4).

The kept values must equal what the events hold (recounted here with plain SQL over `event_params` and
`geo`), a refresh must read only the days it has not seen, a reloaded day must be read again (a value it
gains ends the finding), and `kpi validate --db` must work on a read-only store with days not kept yet.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest
from kpi_runs import kpi

from generator.compile import compile_paths
from generator.rules.value_uses import Subject, subjects
from generator.sql.values import render_values_sql
from warehouse.connection import connect_store
from warehouse.flat_params import warehouse_shape
from warehouse.location import copy_store
from warehouse.observed_values import MAX_VALUES, observed, session_subjects, subject_key
from warehouse.schema import COLUMN_NAMES
from warehouse.sources.arrow_days import ArrowDaysSource
from warehouse.sources.demo import DemoSource
from warehouse.sql_texts import text_key
from warehouse.store import run_load
from warehouse.value_findings import check_loaded_values

REPO = Path(__file__).resolve().parents[2]
DACH = (REPO / "tests" / "warehouse" / "test_value_findings.py").read_text().split('DACH = """', 1)[1].split('"""')[0]
LEAD_SOURCE = Subject("param", "lead_source", "generate_lead")
COUNTRY = Subject("dimension", "country")


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    kpis = tmp_path_factory.mktemp("kpis") / "kpis"
    shutil.copytree(REPO / "kpis", kpis)
    (kpis / "leads" / "dach_leads.yaml").write_text(DACH)
    compiled = compile_paths([kpis])
    return compiled.catalog


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "w.duckdb"
    con = connect_store(path)
    run_load(con, DemoSource(events=8_000, days=6, seed=5, end_date=dt.date(2025, 5, 10)))
    yield con
    con.close()


def _geo_with(country: str, geo: str = "geo") -> str:
    """`geo` with its country replaced (SQL written here, in the test)."""
    return (f"struct_pack(continent := {geo}.continent, country := {country}, region := {geo}.region, "
            f"city := {geo}.city)")


def _reload(con, day: str, rows: str, **params: object) -> None:
    """Load the day `day` again with the rows `rows` selects (in plain SQL over `ga4_events`, `$d` the day)."""
    table = con.sql(f"SELECT {', '.join(COLUMN_NAMES)} FROM ({rows})", params={"d": day, **params}).to_arrow_table()
    run_load(con, ArrowDaysSource({day: table}))


def _lead_sources(con) -> set[str]:
    rows = con.execute("""
        SELECT DISTINCT coalesce(nullif(list_filter(event_params, lambda p: p.key = 'lead_source')[1]
                                        .value.string_value, ''), '(not set)')
        FROM ga4_events WHERE event_name = 'generate_lead'""").fetchall()
    return {v for (v,) in rows}


def _checked(con) -> dict[str, object]:
    return dict(con.execute("SELECT event_date, checked_at FROM observed_days WHERE subject = $s",
                            {"s": subject_key(LEAD_SOURCE)}).fetchall())


def test_kept_values_are_what_the_events_hold_and_each_day_is_read_once(store, catalog):
    wanted = subjects(catalog)
    assert LEAD_SOURCE in wanted and COUNTRY in wanted
    first = observed(store, wanted)
    assert first[LEAD_SOURCE].values == _lead_sources(store) and first[LEAD_SOURCE].complete
    countries = {v for (v,) in store.execute("SELECT DISTINCT coalesce(nullif(geo.country, ''), '(not set)') "
                                             "FROM ga4_events").fetchall()}
    assert first[COUNTRY].values == countries and "Germany" in countries
    checked = _checked(store)
    assert len(checked) == 6  # every loaded day, once per subject
    # read again: the same values, from what was kept (no day read a second time)
    assert observed(store, wanted) == first
    assert _checked(store) == checked
    # one more day loaded: only that day is read
    run_load(store, DemoSource(events=1_500, days=1, seed=6, end_date=dt.date(2025, 5, 11)))
    after = observed(store, wanted)
    now = _checked(store)
    assert len(now) == 7 and {d: now[d] for d in checked} == checked
    assert after[LEAD_SOURCE].values == _lead_sources(store)


def test_a_reloaded_day_is_read_again_and_its_new_value_ends_the_finding(store, catalog):
    before = check_loaded_values(store, catalog)
    assert any("`DE` never occurs" in i.message for i in before)
    day = store.execute("SELECT max(event_date) FROM loaded_days").fetchall()[0][0]
    # the day's data changes only through a load: here it is loaded again with its countries changed, then
    # marked as loaded when it was before, then as loaded again
    (at,) = store.execute("SELECT loaded_at FROM loaded_days WHERE event_date = $d", {"d": day}).fetchall()[0]
    _reload(store, day, "SELECT * REPLACE (" + _geo_with("'DE'") + " AS geo) FROM ga4_events WHERE event_date = $d")
    store.execute("UPDATE loaded_days SET loaded_at = $at WHERE event_date = $d", {"d": day, "at": at})
    kept = check_loaded_values(store, catalog)  # not reloaded: the kept values stand
    assert any("`DE` never occurs" in i.message for i in kept)
    store.execute("UPDATE loaded_days SET loaded_at = loaded_at + INTERVAL 1 SECOND WHERE event_date = $d", {"d": day})
    after = check_loaded_values(store, catalog)
    assert not any("`DE` never occurs" in i.message for i in after)
    assert "DE" in observed(store, [COUNTRY])[COUNTRY].values


def test_validate_reads_a_read_only_store_with_days_not_kept(store, catalog, tmp_path):
    observed(store, [LEAD_SOURCE])  # some kept, COUNTRY not yet
    store.execute("CHECKPOINT")
    copy = tmp_path / "copy.duckdb"
    copy_store(store.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()")
                .fetchall()[0][0], copy)
    with duckdb.connect(str(copy), read_only=True) as ro:
        values = observed(ro, [LEAD_SOURCE, COUNTRY], keep=False)
        assert values[LEAD_SOURCE].values == _lead_sources(ro) and "Germany" in values[COUNTRY].values
        assert ro.execute("SELECT count(DISTINCT subject) FROM observed_days").fetchall() == [(1,)]


def test_a_day_past_the_limit_makes_the_subject_incomplete(store):
    assert observed(store, [COUNTRY])[COUNTRY].complete
    day = store.execute("SELECT min(event_date) FROM loaded_days").fetchall()[0][0]
    _reload(store, day, "SELECT * FROM ga4_events WHERE event_date = $d UNION ALL BY NAME SELECT t.* REPLACE ("
            + _geo_with("'c' || r.i", "t.geo") + " AS geo) FROM (SELECT * FROM ga4_events WHERE event_date = $d "
            "LIMIT 1) t, range($n) r(i)", n=MAX_VALUES + 1)
    values = observed(store, [COUNTRY, LEAD_SOURCE])
    assert not values[COUNTRY].complete and len(values[COUNTRY].values) == MAX_VALUES
    assert values[LEAD_SOURCE].complete  # the other subjects are not affected


def test_each_days_channels_are_those_its_sessions_are_counted_under(store, catalog):
    """The channel values kept per day (read per session: each session once a day meets the session table)
    are the channels the `sessions` KPI counts that day's sessions under, by another statement (the batch
    one), plus `(not set)` for events without a session."""
    from generator.plan.queries import compile_plan
    from warehouse.refresh import refresh_kpis

    channel = Subject("dimension", "channel")
    refresh_kpis(store, catalog, compile_plan(catalog), full=True)
    observed(store, [channel])
    kept: dict[str, set[str]] = {}
    for day, value in store.execute("SELECT event_date, value FROM observed_day_values WHERE subject = $s",
                                    {"s": subject_key(channel)}).fetchall():
        kept.setdefault(day, set()).add(value)
    counted: dict[str, set[str]] = {}
    for day, value in store.execute("SELECT strftime(date, '%Y%m%d'), breakdown_value FROM kpi_values "
                                    "WHERE kpi_id = 'sessions' AND breakdown = 'channel'").fetchall():
        counted.setdefault(day, set()).add(value)
    assert len(kept) == 6 and set(kept) == set(counted)
    for day, values in kept.items():
        assert values - {"(not set)"} == counted[day], day
    assert len(set().union(*counted.values())) >= 4  # several channels, not one


def _kept(con, subject: Subject) -> dict[str, tuple[set[str], dt.datetime]]:
    checked = dict(con.execute("SELECT event_date, checked_at FROM observed_days WHERE subject = $s",
                               {"s": subject_key(subject)}).fetchall())
    values: dict[str, set[str]] = {day: set() for day in checked}
    for day, value in con.execute("SELECT event_date, value FROM observed_day_values WHERE subject = $s",
                                  {"s": subject_key(subject)}).fetchall():
        values[day].add(value)
    return {day: (values[day], at) for day, at in checked.items()}


def test_the_channels_a_day_come_with_the_attribution_methods_not_from_a_statement_of_their_own(tmp_path):
    """The KPI files break down by channel: a refresh keeps each loaded day's channels from the statement that
    counts the attribution methods (one grouping of the events by session), builds no values statement for
    the channel, and `--full` reads them anew the same way; they equal the values statement's, run here."""
    kpis = tmp_path / "kpis"
    shutil.copytree(REPO / "kpis", kpis)
    db = tmp_path / "w.duckdb"
    kpi("load", "demo", "--events", "6000", "--days", "6", "--end-date", "2025-05-10", "--db", db)
    kpi("refresh", "--db", db, "--kpis", kpis)
    channel = Subject("dimension", "channel")
    assert channel in session_subjects(compile_paths([kpis]).catalog)

    def check() -> dict[str, tuple[set[str], dt.datetime]]:
        with duckdb.connect(str(db), read_only=True) as con:
            shape = warehouse_shape(con)
            days = [d for (d,) in con.execute("SELECT event_date FROM loaded_days ORDER BY 1").fetchall()]
            kept = _kept(con, channel)
            assert sorted(kept) == days
            alone = con.execute(render_values_sql(channel, "duckdb", MAX_VALUES + 1, shape, per_day=True),
                                {"start_date": days[0], "end_date": days[-1]}).fetchall()
            assert {day: values for day, (values, _) in kept.items()} == {
                day: {v for d, v in alone if d == day} for day in days}
            assert all(values for values, _ in kept.values())
            never = text_key("values", None, shape, channel, MAX_VALUES + 1)
            assert con.execute("SELECT count(*) FROM sql_texts WHERE key = $k", {"k": never}).fetchall() == [(0,)]
            return kept

    first = check()
    kpi("refresh", "--full", "--db", db, "--kpis", kpis)
    again = check()
    assert all(again[day][1] > first[day][1] for day in first)  # read anew, with the methods again
