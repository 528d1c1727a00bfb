"""The refresh's SQL texts kept between refreshes (`warehouse/sql_texts.py`, issue 13): reused only for the
same code, plan, shape and arguments; never stale; a store not migrated yet still checks read-only."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
from kpi_runs import kpi, rows
from stored_events import old_store

from generator.compile import compile_paths
from generator.sql import render_plan_sql
from generator.sql.export_shape import NEWEST
from warehouse.attribution_methods import METHOD_VALUES
from warehouse.cli_values import findings_for_validate
from warehouse.flat_params import warehouse_shape
from warehouse.observed_values import session_subjects
from warehouse.sql_texts import text_key
from warehouse.statements import users_hash_apart

REPO = Path(__file__).resolve().parents[2]
VALUES = "SELECT kpi_id, date, breakdown, breakdown_value, value FROM kpi_values ORDER BY ALL"


@pytest.fixture
def project(tmp_path) -> tuple[Path, Path]:
    kpis = tmp_path / "kpis"
    shutil.copytree(REPO / "kpis", kpis)
    db = tmp_path / "w.duckdb"
    kpi("load", "demo", "--events", "6000", "--days", "10", "--end-date", "2024-05-10", "--db", db)
    kpi("refresh", "--db", db, "--kpis", kpis)
    return kpis, db


def test_a_second_refresh_reuses_every_text_and_each_equals_a_fresh_build(project):
    kpis, db = project
    kept = rows(db, "SELECT key, sql FROM sql_texts ORDER BY key")
    assert len(kept) >= 4  # the day statement, the periods, the attribution methods, the params, values …
    values = rows(db, VALUES)
    kpi("refresh", "--full", "--db", db, "--kpis", kpis)
    assert rows(db, "SELECT key, sql FROM sql_texts ORDER BY key") == kept  # nothing built again
    assert rows(db, VALUES) == values
    # the kept day statement is exactly what the generator builds now for this store (it counts the attribution
    # methods of its days too, with the values a day of the session dimensions the KPI files name, and reads the
    # kept session days, whose clicks are ids, not event rows: `warehouse/session_facts.py`; and each transaction
    # id's first purchase, which the refresh hands its statements: `warehouse/first_seen.first_purchases`)
    compiled = compile_paths([kpis])
    plan, names = compiled.plan, [s.name for s in session_subjects(compiled.catalog)]
    assert names
    with duckdb.connect(str(db), read_only=True) as con:
        shape = dataclasses.replace(warehouse_shape(con), event_rows=False, first_purchases=True)
        assert users_hash_apart(con)  # so the statements key sessions by the users' hash
        fresh = render_plan_sql(plan, "duckdb", plan.kpis.keys(), export=shape, hashed_users=True, methods=names,
                                methods_limit=METHOD_VALUES, facts=True)
        key = text_key("plan", plan, shape, list(plan.kpis.keys()), "day", False, "hashed_users", "facts",
                       ["methods", *names, METHOD_VALUES])
        assert con.execute("SELECT sql FROM sql_texts WHERE key = $k", {"k": key}).fetchall() == [(fresh,)]


def test_the_periods_statement_is_one_text_whatever_the_days(project):
    """The dashboard's ranges move with every new day; they are the periods statement's parameters, so its
    text is built once and kept (a new day's refresh used to build it again: 0.6 CPU s at 90 days). A new day's
    ranges are shifted from the stored ones (`period_shift.py`) by the same statement counting given users: its
    second text, built once too; so is a full count's from users' spans (`period_spans.py`); and a statement over
    few listed users reads their events by their ids (`period_values.FEW_USERS`), a text of its own."""
    kpis, db = project
    periods = "SELECT key, sql FROM sql_texts WHERE sql LIKE '%$period_ranges%'"
    first = rows(db, periods)
    assert 1 <= len(first) <= 4
    kpi("load", "demo", "--events", "600", "--days", "1", "--end-date", "2024-05-11", "--db", db)
    kpi("refresh", "--db", db, "--kpis", kpis)
    both = rows(db, periods)
    assert set(first) <= set(both) and len(both) <= 4 and any("period_users" in sql for _, sql in both)
    kpi("load", "demo", "--events", "600", "--days", "1", "--end-date", "2024-05-12", "--db", db)
    kpi("refresh", "--db", db, "--kpis", kpis)
    assert rows(db, periods) == both
    assert rows(db, "SELECT max(period_end) FROM kpi_period_values WHERE grain = 'period'") == [(date(2024, 5, 12),)]


def test_a_changed_kpi_file_builds_its_texts_again(project):
    kpis, db = project
    before = {k for (k,) in rows(db, "SELECT key FROM sql_texts")}
    values = dict(((kid, d), v) for kid, d, b, bv, v in rows(db, VALUES) if b == "")
    leads = kpis / "leads" / "email_sign_ups.yaml"
    leads.write_text(leads.read_text().replace("{param: method, equals: email}", "{param: method, equals: google}"))
    kpi("refresh", "--db", db, "--kpis", kpis)
    assert {k for (k,) in rows(db, "SELECT key FROM sql_texts")} - before  # new texts for the new plan
    after = dict(((kid, d), v) for kid, d, b, bv, v in rows(db, VALUES) if b == "")
    google = rows(db, """SELECT strptime(event_date, '%Y%m%d')::DATE, count(*)::DOUBLE FROM ga4_events
                         WHERE event_name = 'sign_up' AND list_filter(event_params, lambda p: p.key = 'method')[1]
                         .value.string_value = 'google' GROUP BY 1""")
    assert google and all(after[("email_sign_ups", d)] == n for d, n in google)  # counted from the new filter
    assert any(after[k] != values[k] for k in after if k[0] == "email_sign_ups")


def test_the_key_covers_plan_shape_and_arguments():
    plan = compile_paths([REPO / "kpis"]).plan
    other = compile_paths([REPO / "kpis" / "leads"]).plan
    flat = dataclasses.replace(NEWEST, flat_params=(("value", "kp_1"),))
    keys = {text_key("plan", plan, NEWEST, None, "day", None), text_key("plan", other, NEWEST, None, "day", None),
            text_key("plan", plan, flat, None, "day", None), text_key("plan", plan, NEWEST, ["sessions"], "day", None),
            text_key("plan", plan, NEWEST, None, "week", None)}
    assert len(keys) == 5
    assert text_key("plan", plan, NEWEST, None, "day", None) == text_key("plan", plan, NEWEST, None, "day", None)


def test_validate_reads_a_store_from_before_the_kept_tables(project):
    kpis, new = project
    db = new.with_name("old.duckdb")
    old_store(db, 12, new).close()  # as an older KPI Bridge left it: migrations 13 on not applied
    found = findings_for_validate(compile_paths([kpis]).catalog, db)
    assert isinstance(found, list), found  # checked, not "could not be checked"
