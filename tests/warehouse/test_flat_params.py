"""Event params flattened into plain columns (`warehouse/flat_params.py`, issue 13 §1).

Each column must hold exactly what the nested list holds (checked here with plain SQL over `event_params`), be
filled by every later load (demo and export files), be added for a new param without reloading anything, and
change no KPI number; the SQL reads the column only where the warehouse has it.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
from stored_events import WITH_RAW
from typer.testing import CliRunner

from generator.compile import compile_paths
from generator.rules.pii_values import PII_PATTERN
from generator.sql import render_plan_sql, sql_parameters
from generator.sql.dialects import ParamNotKept, lower
from generator.sql.export_shape import NEWEST, click_key, session_value_key
from generator.sql.params import as_number, param_record
from kpibridge.cli import app as kpi_app
from warehouse.flat_params import params_of, warehouse_shape
from warehouse.pii_search import PII_KEY

KPIS = Path(__file__).resolve().parents[2] / "kpis"


# A click column's field: (collected_traffic_source's field, the URL's query parameter), written out here.
_CLICK_FIELDS = {click_key("source"): ("manual_source", "utm_source"), click_key("medium"): ("manual_medium", "utm_medium"),
                 click_key("campaign"): ("manual_campaign_name", "utm_campaign"), click_key("gclid"): ("gclid", "gclid")}


def _click_differences(con: duckdb.DuckDBPyConnection, key: str, column: str) -> int:
    """Events whose click column differs from the click worked out in plain SQL: the collected field when
    not blank, else the URL's query parameter when not blank (the URL: page_location's text)."""
    field, query = _CLICK_FIELDS[key]
    url = ("(SELECT coalesce(p.value.string_value, CAST(p.value.int_value AS VARCHAR)) "
           "FROM (SELECT unnest(event_params) AS p) WHERE p.key = 'page_location' LIMIT 1)")
    expected = (f"coalesce(nullif(collected_traffic_source.{field}, ''), "
                f"nullif(regexp_extract({url}, '[?&]{query}=([^&#]*)', 1), ''))")
    return con.execute(f"SELECT count(*) FROM {WITH_RAW} WHERE {column} IS DISTINCT FROM {expected}"  # noqa: S608
                       ).fetchall()[0][0]


def _pii_differences(con: duckdb.DuckDBPyConnection, column: str) -> int:
    """Events whose PII column (`kq_`) differs from: one of its string values matches the PII pattern."""
    expected = ("coalesce((SELECT bool_or(regexp_matches(p.value.string_value, $pattern)) "
                "FROM (SELECT unnest(event_params) AS p)), false)")
    return con.execute(f"SELECT count(*) FROM {WITH_RAW} WHERE {column} IS DISTINCT FROM {expected}",  # noqa: S608
                       {"pattern": PII_PATTERN}).fetchall()[0][0]


# A session value column's param and its value, written out here from the param's first `value` record `v`.
_SESSION_VALUES = {
    session_value_key("ga_session_id"): ("ga_session_id", "coalesce(v.int_value, TRY_CAST(v.string_value AS BIGINT))"),
    session_value_key("session_engaged"): ("session_engaged", "coalesce(v.string_value, CAST(v.int_value AS VARCHAR), "
                                           "CAST(v.float_value AS VARCHAR), CAST(v.double_value AS VARCHAR)) = '1'"),
}


def _session_differences(con: duckdb.DuckDBPyConnection, key: str, column: str) -> int:
    """Events whose session value column (`ks_`) differs from the value worked out in plain SQL from the param."""
    param, value = _SESSION_VALUES[key]
    expected = f"(SELECT {value} FROM (SELECT (SELECT p.value FROM (SELECT unnest(event_params) AS p) WHERE p.key = $key LIMIT 1) AS v))"
    return con.execute(f"SELECT count(*) FROM {WITH_RAW} WHERE {column} IS DISTINCT FROM {expected}",  # noqa: S608
                       {"key": param}).fetchall()[0][0]


def _differences(db: Path) -> list[tuple]:
    """Per flattened param: events whose column differs from the param's first `value` in `event_params` (a
    listed `kl_` column: whose first param's value differs, or which holds another number of params); per click
    column (`kc_`), events whose column differs from the click worked out from the event (`_click_differences`);
    for the PII column (`kq_`), events whose flag differs from a search of their values (`_pii_differences`); for
    a session value's (`ks_`), from the value of the param (`_session_differences`); for an export field's
    (`kf_`), events whose column differs from the raw field."""
    with duckdb.connect(str(db), read_only=True) as con:
        out = []
        for key, column in con.execute("SELECT key, column_name FROM flat_params ORDER BY 1").fetchall():
            if column.startswith("kc_"):
                out.append((key, _click_differences(con, key, column)))
                continue
            if column.startswith("kq_"):
                out.append((key, _pii_differences(con, column)))
                continue
            if column.startswith("ks_"):
                out.append((key, _session_differences(con, key, column)))
                continue
            if column.startswith("kf_"):  # an export field: `field:device.category` holds device.category
                out.append((key, con.execute(f"SELECT count(*) FROM {WITH_RAW} WHERE {column} IS DISTINCT FROM "  # noqa: S608
                                             f"{key.removeprefix('field:')}").fetchall()[0][0]))
                continue
            listed = column.startswith("kl_")
            first = f"{column}[1].value" if listed else column
            count = (f" OR coalesce(len({column}), 0) <> (SELECT count(*) FROM (SELECT unnest(event_params) AS p) "
                     "WHERE p.key = $key)") if listed else ""
            (n,) = con.execute(
                f"SELECT count(*) FROM {WITH_RAW} WHERE {first} IS DISTINCT FROM "  # noqa: S608 - our own names
                f"(SELECT p.value FROM (SELECT unnest(event_params) AS p) WHERE p.key = $key LIMIT 1){count}",
                {"key": key}).fetchall()[0]
            out.append((key, n))
        return out


@pytest.fixture
def kpi():
    """The whole `kpi` app (conftest's `kpi` has the warehouse's commands only)."""
    return lambda *args: CliRunner().invoke(kpi_app, [str(a) for a in args])


@pytest.fixture
def refreshed(kpi, tmp_path) -> Path:
    db = tmp_path / "w.duckdb"
    assert kpi("load", "demo", "--events", "20000", "--days", "20", "--end-date", "2024-03-20", "--db", db).exit_code == 0
    result = kpi("refresh", "--db", db, "--kpis", KPIS)
    assert result.exit_code == 0, result.output
    return db


def test_a_refresh_flattens_what_its_kpis_read_and_each_column_equals_the_list(refreshed, query):
    keys = {k for (k,) in query(refreshed, "SELECT key FROM flat_params")}
    # what every KPI needs (the session and its engagement, as their values) and the example KPIs' own params
    assert {session_value_key("ga_session_id"), session_value_key("session_engaged"), "value", "lead_source",
            "method"} <= keys
    assert not {"ga_session_id", "session_engaged"} & keys  # their records: no example KPI reads them otherwise
    # and the click every session's attribution reads (collected, else the URL's UTM / gclid); the spec stamp
    # (event_stamps.py) and whether the values look like personal data (quality.py), which every refresh reads
    assert set(_CLICK_FIELDS) <= keys
    # but not what the clicks are computed from, which no example KPI reads otherwise (ExportShape.click_inputs)
    assert "page_location" not in keys
    assert not query(refreshed, "SELECT column_name FROM duckdb_columns() WHERE table_name = 'slim_events' "
                     "AND column_name = 'collected_traffic_source'")
    assert {"kb_spec", PII_KEY} <= keys
    # and the event-scoped fields the example KPIs break down by, a column each (not the whole records)
    assert {k for k in keys if k.startswith("field:")} == {"field:device.category", "field:geo.country"}
    differences = _differences(refreshed)
    assert len(differences) == len(keys)
    assert all(n == 0 for _, n in differences), differences
    # and the columns are not empty: every event with a session id has it in its column
    col = query(refreshed, "SELECT column_name FROM flat_params WHERE key = $k", {"k": session_value_key("ga_session_id")})[0][0]
    (filled,) = query(refreshed, f"SELECT count({col}) FROM slim_events")[0]  # noqa: S608 - our own name
    (with_id,) = query(refreshed, "SELECT count(*) FROM ga4_events WHERE "
                       "len(list_filter(event_params, lambda p: p.key = 'ga_session_id')) > 0")[0]
    assert filled == with_id > 0
    pii = query(refreshed, "SELECT column_name FROM flat_params WHERE key = $k", {"k": PII_KEY})[0][0]
    assert query(refreshed, f"SELECT count(*) FILTER (WHERE {pii}) FROM slim_events")[0][0] > 0  # noqa: S608


def test_later_loads_fill_the_columns_of_the_rows_they_insert(refreshed, kpi, export_dir, query):
    # more demo days (an Arrow load) and GA4 export files (a SELECT load) into the flattened store
    assert kpi("load", "demo", "--events", "5000", "--days", "5", "--end-date", "2024-03-25",
               "--db", refreshed).exit_code == 0
    assert kpi("load", "ga4-export", export_dir, "--db", refreshed).exit_code == 0
    assert query(refreshed, "SELECT count(*) FROM loaded_days")[0][0] == 20 + 5 + 9
    assert all(n == 0 for _, n in _differences(refreshed))
    again = kpi("refresh", "--db", refreshed, "--kpis", KPIS)
    assert again.exit_code == 0, again.output


def _leads_by(tmp_path: Path, kpi_id: str, breakdown: str) -> Path:
    """The example KPIs, plus `kpi_id`: the leads KPI broken down by `breakdown` instead of its lead source."""
    kpis = tmp_path / "kpis"
    shutil.copytree(KPIS, kpis)
    leads = (kpis / "leads" / "leads.yaml").read_text()
    (kpis / "leads" / f"{kpi_id}.yaml").write_text(
        leads.replace("kpi: leads", f"kpi: {kpi_id}").replace("{param: lead_source}", breakdown))
    return kpis


def _refresh_extracts(kpi, query, db: Path, kpis: Path, key: str, loads: list[tuple]) -> None:
    """`kpi refresh` with the KPI files `kpis` makes a column of `key` from the stored events: nothing reloaded
    (`loads`: the load audit's count before), and every column holds what the raw events hold."""
    result = kpi("refresh", "--db", db, "--kpis", kpis)
    assert result.exit_code == 0, result.output
    assert key in {k for (k,) in query(db, "SELECT key FROM flat_params")}
    assert query(db, "SELECT count(*) FROM load_audit") == loads  # nothing reloaded
    assert all(n == 0 for _, n in _differences(db))


def _leads_per(query, db: Path, kpi_id: str, breakdown: str) -> list[tuple]:
    """The stored daily values of `kpi_id` per value of `breakdown`, summed over the days."""
    return query(db, "SELECT breakdown_value, sum(value)::BIGINT FROM kpi_values WHERE kpi_id = $k "
                 "AND breakdown = $b GROUP BY 1 ORDER BY 1", {"k": kpi_id, "b": breakdown})


def test_a_new_param_is_extracted_from_the_stored_events_not_reloaded(refreshed, kpi, query, tmp_path):
    loads = query(refreshed, "SELECT count(*) FROM load_audit")
    kpis = _leads_by(tmp_path, "leads_by_currency", "{param: currency}")
    assert "currency" not in {k for (k,) in query(refreshed, "SELECT key FROM flat_params")}
    _refresh_extracts(kpi, query, refreshed, kpis, "currency", loads)
    # the breakdown counts what the lists hold: leads per currency, recounted here from event_params
    expected = query(refreshed, """
        SELECT coalesce(list_filter(event_params, lambda p: p.key = 'currency')[1].value.string_value, '(not set)'),
               count(*)
        FROM ga4_events WHERE event_name = 'generate_lead' GROUP BY 1 ORDER BY 1""")
    got = _leads_per(query, refreshed, "leads_by_currency", "param:currency")
    assert got == expected and len(expected) >= 1


def test_a_new_export_field_is_extracted_from_the_raw_files_not_reloaded(refreshed, kpi, query, tmp_path):
    """A KPI file that starts to break down by an event-scoped field no KPI read before (the browser) gets it as
    a column from the raw files at the next refresh (`field:device.browser`), and counts what the raw field says."""
    loads = query(refreshed, "SELECT count(*) FROM load_audit")
    kpis = _leads_by(tmp_path, "leads_by_browser", "browser")
    assert "field:device.browser" not in {k for (k,) in query(refreshed, "SELECT key FROM flat_params")}
    # before a refresh, the statement reads the raw export (`statements.or_over_raw`): the same numbers, slower
    before = kpi("values", "--kpi", "leads_by_browser", "--breakdown", "browser", "--grain", "period", "--from",
                 "2024-03-01", "--to", "2024-03-20", "--format", "json", "--db", refreshed, "--kpis", kpis)
    assert before.exit_code == 0, before.output
    _refresh_extracts(kpi, query, refreshed, kpis, "field:device.browser", loads)
    expected = query(refreshed, """
        SELECT coalesce(device.browser, '(not set)'), count(*)
        FROM ga4_events WHERE event_name = 'generate_lead' GROUP BY 1 ORDER BY 1""")
    got = _leads_per(query, refreshed, "leads_by_browser", "browser")
    assert got == expected and len(expected) > 1
    assert sorted((row["breakdown_value"], row["value"]) for row in json.loads(before.output)) == expected


def test_no_number_changes_when_the_sql_reads_the_columns(refreshed):
    """Every example KPI's statement over the same store: reading the columns (`events`, over `slim_events`) and
    searching the lists of the raw export (`ga4_events`, the files) agree."""
    plan = compile_paths([KPIS]).plan
    with duckdb.connect(str(refreshed), read_only=True) as con:
        shape = warehouse_shape(con)
        assert len(shape.flat_params) >= 6
        params = sql_parameters(date(2024, 3, 1), date(2024, 3, 20))
        flat_sql, list_sql = render_plan_sql(plan, "duckdb", export=shape), render_plan_sql(plan, "duckdb")
        assert flat_sql != list_sql and "list_filter" in list_sql.lower()
        # the clicks are read from their columns, where the lists' SQL searches each event's URL
        clicks = [column for key, column in shape.flat_params if key.startswith("click:")]
        assert len(clicks) == 4 and all(column in flat_sql for column in clicks)
        assert "utm_source" not in flat_sql and "utm_source" in list_sql
        flat = con.execute(flat_sql, params).fetchall()
        con.execute("CREATE TEMP VIEW events AS SELECT * FROM ga4_events")  # the raw export, its lists searched
        listed = con.execute(list_sql, params).fetchall()
    assert len(flat) > 100
    assert flat == listed


def test_the_sql_reads_a_flattened_param_from_its_column_in_duckdb_only():
    shape = dataclasses.replace(NEWEST, flat_params=(("value", "kp_3"),))
    number = as_number(param_record("value"))
    duck = lower(number, "duckdb", export=shape).sql("duckdb")
    assert "kp_3" in duck and "LIST_FILTER" not in duck.upper()
    other = lower(as_number(param_record("currency")), "duckdb", export=shape).sql("duckdb")
    assert "LIST_FILTER" in other.upper()  # a param not flattened: the list, as before
    bigquery = lower(number, "bigquery", export=shape).sql("bigquery")
    assert "kp_3" not in bigquery and "UNNEST(event_params)" in bigquery
    # a listed column holds the event's params of that name: the first one's record is read
    listed = lower(number, "duckdb", export=dataclasses.replace(NEWEST, flat_params=(("value", "kl_3"),)))
    assert "kl_3[1].value" in listed.sql("duckdb") and "LIST_FILTER" not in listed.sql("duckdb").upper()


def test_a_click_is_read_from_its_column_where_the_warehouse_keeps_one_and_computed_elsewhere():
    """The scan reads the click's field from the column below it (`flat_click_<field>`, selected over the events
    only where the warehouse has it); elsewhere (no column, BigQuery) it computes it from the URL as before."""
    plan = compile_paths([KPIS]).plan
    shape = dataclasses.replace(NEWEST, flat_params=(("page_location", "kp_1"), (click_key("source"), "kc_2"),
                                                     (click_key("medium"), "kc_3"), (click_key("campaign"), "kc_4"),
                                                     (click_key("gclid"), "kc_5")))
    flat = render_plan_sql(plan, "duckdb", export=shape)
    assert "kc_2 AS flat_click_source" in flat and "flat_click_source AS click_source" in flat
    assert "REGEXP_EXTRACT" not in flat.upper()
    for sql in (render_plan_sql(plan, "duckdb"), render_plan_sql(plan, "bigquery", export=shape)):
        assert "flat_click" not in sql and "kc_2" not in sql and "utm_source=" in sql


def test_the_session_values_and_no_click_inputs_are_read_where_the_warehouse_keeps_their_columns():
    """Where the warehouse keeps the session id and the engaged flag as values (`ks_`) and the four click fields,
    the statement reads those columns: no param record, no `collected_traffic_source` (a typed NULL); elsewhere
    (no columns, BigQuery) it reads the records and computes from them as before."""
    plan = compile_paths([KPIS]).plan
    clicks = tuple((click_key(f), f"kc_{n}") for n, f in enumerate(("source", "medium", "campaign", "gclid"), 2))
    shape = dataclasses.replace(NEWEST, flat_params=((session_value_key("ga_session_id"), "ks_6"),
                                                     (session_value_key("session_engaged"), "ks_7"), *clicks),
                                click_inputs=False)
    flat = render_plan_sql(plan, "duckdb", export=shape)
    assert "ks_6 AS param_ga_session_id" in flat and "ks_7 AS param_session_engaged" in flat
    assert "param_ga_session_id.int_value" not in flat and "param_session_engaged.string_value" not in flat
    assert "collected_traffic_source AS collected_traffic_source" not in flat  # a typed NULL in its place
    assert "'page_location'" not in flat  # its record is not read: nothing reads it but the clicks
    for sql in (render_plan_sql(plan, "duckdb"), render_plan_sql(plan, "bigquery", export=shape)):
        assert "ks_6" not in sql and "param_ga_session_id.int_value" in sql and "utm_source=" in sql
    without_clicks = dataclasses.replace(shape, flat_params=shape.flat_params[:2])  # clicks not kept yet
    with pytest.raises(ParamNotKept):
        render_plan_sql(plan, "duckdb", export=without_clicks)


def test_an_interrupted_fill_is_never_read_and_the_next_refresh_finishes_it(refreshed, kpi, query, tmp_path):
    """A fill stopped half-way (columns added and registered, some days not filled) must not be read."""
    with duckdb.connect(str(refreshed)) as con:
        con.execute("ALTER TABLE slim_events ADD COLUMN kp_99 STRUCT(string_value VARCHAR, int_value BIGINT, "
                    "float_value DOUBLE, double_value DOUBLE)")
        con.execute("INSERT INTO flat_params VALUES ('currency', 'kp_99', NULL)")
        con.execute("UPDATE slim_events SET kp_99 = {'string_value': 'XXX', 'int_value': NULL, 'float_value': NULL, "
                    "'double_value': NULL} WHERE event_date = (SELECT min(event_date) FROM slim_events)")
        assert "currency" not in dict(warehouse_shape(con).flat_params)  # not filled: the SQL reads the list
    # a load meanwhile fills it for its own rows
    assert kpi("load", "demo", "--events", "3000", "--days", "2", "--end-date", "2024-03-22",
               "--db", refreshed).exit_code == 0
    kpis = tmp_path / "kpis"
    shutil.copytree(KPIS, kpis)
    leads = (kpis / "leads" / "leads.yaml").read_text()
    (kpis / "leads" / "leads_by_currency.yaml").write_text(
        leads.replace("kpi: leads", "kpi: leads_by_currency").replace("{param: lead_source}", "{param: currency}"))
    result = kpi("refresh", "--db", refreshed, "--kpis", kpis)
    assert result.exit_code == 0, result.output
    assert query(refreshed, "SELECT column_name, flattened_at IS NOT NULL FROM flat_params WHERE key = 'currency'") \
        == [("kp_99", True)]
    assert all(n == 0 for _, n in _differences(refreshed))  # the stray 'XXX' was filled over


def test_a_column_the_code_now_computes_otherwise_is_made_again_never_read_stale(refreshed, kpi, query):
    """The click and PII columns are computed by the load's code; their keys carry a hash of it. A store whose
    columns an older version computed (keys without the hash, as stop 42 wrote them, and here wrong values)
    gets them dropped and made again from the raw files by the next refresh: the same numbers as before."""
    before = query(refreshed, "SELECT * FROM kpi_values ORDER BY ALL")
    before_quality = query(refreshed, "SELECT date, event_name, pii_suspect FROM event_quality ORDER BY ALL")
    with duckdb.connect(str(refreshed)) as con:
        old = {}
        for key in [PII_KEY, click_key("source")]:
            (column,) = con.execute("SELECT column_name FROM flat_params WHERE key = $k", {"k": key}).fetchall()[0]
            old[key.split("@")[0]] = column
            con.execute("UPDATE flat_params SET key = $old WHERE key = $k", {"old": key.split("@")[0], "k": key})
        con.execute(f"UPDATE slim_events SET {old['check:pii']} = NOT {old['check:pii']}, "  # noqa: S608
                    f"{old['click:source']} = 'stale'")
        con.execute("DELETE FROM event_quality_days")  # data quality checked again, from the new column
    result = kpi("refresh", "--full", "--db", refreshed, "--kpis", KPIS)
    assert result.exit_code == 0, result.output
    keys = dict(query(refreshed, "SELECT key, column_name FROM flat_params"))
    assert "check:pii" not in keys and "click:source" not in keys and {PII_KEY, click_key("source")} <= set(keys)
    columns = {c for (c,) in query(refreshed, "SELECT column_name FROM duckdb_columns() WHERE table_name = 'slim_events'")}
    assert not set(old.values()) & columns  # the stale columns are gone
    assert all(n == 0 for _, n in _differences(refreshed))  # each column is what the raw events say
    assert query(refreshed, "SELECT date, event_name, pii_suspect FROM event_quality ORDER BY ALL") == before_quality
    after = query(refreshed, "SELECT * FROM kpi_values ORDER BY ALL")
    assert [r[:7] for r in after] == [r[:7] for r in before]  # kpi, date, breakdown, value, numerator, denominator


def _flattened(db: Path) -> dict[str, object]:
    with duckdb.connect(str(db), read_only=True) as con:
        return dict(con.execute("SELECT key, flattened_at FROM flat_params").fetchall())


def test_a_first_load_flattens_what_the_kpi_files_read_so_the_refresh_extracts_nothing(kpi, tmp_path, query):
    """Flatten once, at load: the first load fills the columns as it inserts and marks them filled; the refresh
    after it finds nothing to extract (its fill would stamp `flattened_at` anew)."""
    db = tmp_path / "w.duckdb"
    load = kpi("load", "demo", "--events", "8000", "--days", "10", "--end-date", "2024-03-10", "--db", db, "--kpis", KPIS)
    assert load.exit_code == 0, load.output
    loaded = _flattened(db)
    plan = compile_paths([KPIS]).plan
    with duckdb.connect(str(db)) as con:  # what the refresh of these KPI files reads
        assert set(loaded) == {p.key for p in params_of(con, plan)} >= {session_value_key("ga_session_id"), "value"}
    assert all(at is not None for at in loaded.values())
    assert all(n == 0 for _, n in _differences(db)), _differences(db)  # each column is what the list holds
    refreshed = kpi("refresh", "--db", db, "--kpis", KPIS)
    assert refreshed.exit_code == 0, refreshed.output
    assert _flattened(db) == loaded  # nothing extracted again
    # and the numbers are the lists': sessions per day, counted here from event_params
    expected = query(db, """
        SELECT event_date, count(DISTINCT (user_pseudo_id, list_filter(event_params,
               lambda p: p.key = 'ga_session_id')[1].value.int_value))
        FROM ga4_events WHERE list_filter(event_params, lambda p: p.key = 'ga_session_id')[1].value.int_value
              IS NOT NULL GROUP BY 1 ORDER BY 1""")
    got = query(db, "SELECT strftime(date, '%Y%m%d'), value::BIGINT FROM kpi_values WHERE kpi_id = 'sessions' "
                "AND breakdown = '' ORDER BY 1")
    assert got == expected and len(expected) == 10


def test_params_read_on_a_few_events_are_kept_as_lists_the_others_as_records(kpi, tmp_path, query):
    """The example KPIs read `value`, `method`, `lead_source` and `payment_type` on their events only (a
    purchase, a sign-up, a lead): those columns hold the event's params of that name (`kl_`, mostly empty);
    the session id and the engaged flag, read on every event, their values (`ks_`: BIGINT, BOOLEAN); the
    spec stamp, which the tracking snippets send with every event (`event_stamps.py`), its record (`kp_`)."""
    db = tmp_path / "w.duckdb"
    assert kpi("load", "demo", "--events", "3000", "--days", "3", "--end-date", "2024-03-10", "--db", db,
               "--kpis", KPIS).exit_code == 0
    columns = dict(query(db, "SELECT key, column_name FROM flat_params"))
    assert {k for k, c in columns.items() if c.startswith("kl_")} == {"value", "method", "lead_source", "payment_type"}
    assert {k for k, c in columns.items() if c.startswith("kp_")} == {"kb_spec"}
    assert {k for k, c in columns.items() if c.startswith("ks_")} == {session_value_key("ga_session_id"),
                                                                      session_value_key("session_engaged")}
    types = dict(query(db, "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'slim_events'"))
    assert types[columns["value"]].endswith("[]") and not types[columns["kb_spec"]].endswith("[]")
    assert types[columns[session_value_key("ga_session_id")]] == "BIGINT"
    assert types[columns[session_value_key("session_engaged")]] == "BOOLEAN"
    assert all(n == 0 for _, n in _differences(db)), _differences(db)


def test_a_load_beside_older_days_fills_its_own_rows_and_the_refresh_the_rest(kpi, tmp_path, query):
    db = tmp_path / "w.duckdb"
    no_kpis = tmp_path / "nowhere"
    assert kpi("load", "demo", "--events", "5000", "--days", "5", "--end-date", "2024-03-05", "--db", db,
               "--kpis", no_kpis).exit_code == 0
    assert _flattened(db) == {}  # no KPI files: nothing to flatten at load (the refresh does it)
    assert kpi("load", "demo", "--events", "3000", "--days", "3", "--end-date", "2024-03-08", "--db", db,
               "--kpis", KPIS).exit_code == 0
    loaded = _flattened(db)
    assert loaded and all(at is None for at in loaded.values())  # the older days lack them: not filled yet
    column = query(db, "SELECT column_name FROM flat_params WHERE key = $k", {"k": session_value_key("ga_session_id")})[0][0]
    per_day = dict(query(db, f"SELECT event_date, count({column}) FROM slim_events GROUP BY 1"))  # noqa: S608
    assert {d: n > 0 for d, n in per_day.items()} == {**{f"2024030{d}": False for d in range(1, 6)},
                                                      **{f"2024030{d}": True for d in range(6, 9)}}
    with duckdb.connect(str(db), read_only=True) as con:
        assert warehouse_shape(con).flat_params == ()  # so the SQL reads the lists until they are filled
    refreshed = kpi("refresh", "--db", db, "--kpis", KPIS)
    assert refreshed.exit_code == 0, refreshed.output
    assert all(at is not None for at in _flattened(db).values())
    assert all(n == 0 for _, n in _differences(db))


def test_kpi_files_with_errors_or_a_failed_load_leave_no_column(kpi, tmp_path, export_dir, query):
    db = tmp_path / "w.duckdb"
    broken = tmp_path / "kpis"
    shutil.copytree(KPIS, broken)
    (broken / "acquisition" / "sessions.yaml").write_text("kpi: sessions\nmeasure: {sesions: {}}\n")
    assert kpi("load", "demo", "--events", "2000", "--days", "2", "--end-date", "2024-03-02", "--db", db,
               "--kpis", broken).exit_code == 0
    assert _flattened(db) == {}
    bad = tmp_path / "bad"
    bad.mkdir()
    shutil.copy(export_dir / "events_20240123.parquet", bad / "events_20240123.parquet")
    (bad / "events_20240124.json").write_text('{"event_date": "20240124", "event_na\n')
    failed = kpi("load", "ga4-export", bad, "--db", db, "--kpis", KPIS)
    assert failed.exit_code == 1 and "not valid JSON" in " ".join(failed.output.split())
    assert _flattened(db) == {}  # registered in the load's transaction, so rolled back with it
    columns = [c for (c,) in query(db, "SELECT column_name FROM duckdb_columns() WHERE table_name = 'slim_events'")]
    assert not any(c.startswith(("kp_", "kl_")) for c in columns)


def test_a_load_fills_each_column_with_the_first_param_of_its_name_whatever_the_list_holds(tmp_path):
    """Lists GA4 does not usually send (no params, none at all, a key twice, a key without a name, a param
    without a value) are filled as the list says: the first param of that name, NULL when it has none. The
    expected values are read from the lists here in plain Python."""
    from warehouse.connection import connect_store
    from warehouse.flat_params import FlatParam, register
    from warehouse.store import insert_events

    def param(key, s=None, i=None):
        return {"key": key, "value": {"string_value": s, "int_value": i, "float_value": None, "double_value": None}}
    lists = [
        [param("ga_session_id", i=7), param("page_location", s="https://a.example/"), param("value", i=3),
         param("value", s="again")],
        [param("page_location", s="first"), param("page_location", s="second")],  # a key twice: the first
        [param(None, s="nameless"), param("ga_session_id", i=9)],  # a param without a name is nobody's
        [param("ga_session_id")],  # there, with an empty value record
        [],
        None,
    ]
    con = connect_store(tmp_path / "w.duckdb")
    con.execute("BEGIN")
    register(con, [FlatParam("ga_session_id"), FlatParam("page_location"), FlatParam("value", listed=True)])
    con.execute("COMMIT")
    rows = ", ".join(f"($p{n}::{_PARAMS_TYPE}, {n})" for n in range(len(lists)))
    con.execute(f"CREATE TEMP TABLE src AS SELECT * FROM (VALUES {rows}) t(event_params, n)",  # noqa: S608
                {f"p{n}": value for n, value in enumerate(lists)})
    insert_events(con, "SELECT '20240301' AS event_date, n AS event_timestamp, 'page_view' AS event_name, "
                       "event_params, NULL AS user_id, 'u' AS user_pseudo_id, NULL AS user_first_touch_timestamp, "
                       "NULL AS device, NULL AS geo, NULL AS traffic_source, NULL AS collected_traffic_source, "
                       "NULL AS session_traffic_source_last_click, NULL AS ecommerce, NULL AS privacy_info, "
                       "NULL AS platform FROM src")
    columns = dict(con.execute("SELECT key, column_name FROM flat_params").fetchall())
    assert columns["value"].startswith("kl_") and columns["page_location"].startswith("kp_")
    stored = {ts: row for ts, *row in con.execute(
        f"SELECT event_timestamp, {columns['ga_session_id']}, {columns['page_location']}, "  # noqa: S608
        f"{columns['value']}[1].value FROM slim_events ORDER BY 1").fetchall()}
    held = dict(con.execute(f"SELECT event_timestamp, {columns['value']} FROM slim_events").fetchall())  # noqa: S608
    con.close()

    def first(params, key):
        return next((p["value"] for p in params or [] if p["key"] == key), None)
    expected = {n: [first(params, k) for k in ("ga_session_id", "page_location", "value")]
                for n, params in enumerate(lists)}
    assert stored == expected
    # the listed column holds every param of that name, in order, and nothing else
    assert held == {n: None if params is None else [p for p in params if p["key"] == "value"]
                    for n, params in enumerate(lists)}
    assert stored[1][1]["string_value"] == "first" and stored[2][0]["int_value"] == 9
    assert stored[3][0] == {"string_value": None, "int_value": None, "float_value": None, "double_value": None}


_PARAMS_TYPE = ("STRUCT(key VARCHAR, value STRUCT(string_value VARCHAR, int_value BIGINT, float_value DOUBLE, "
                "double_value DOUBLE))[]")
