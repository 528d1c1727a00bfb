"""The store file: migrations, the documented tables, and waiting politely for another process's lock."""

from __future__ import annotations

import subprocess
import sys
import time

import duckdb
import pytest

from warehouse.connection import StoreError, StoreLockedError, connect_store, without_optimizer
from warehouse.schema import ARROW_SCHEMA, LATEST_VERSION, MIGRATIONS


def test_a_new_store_gets_every_table_and_the_events_view(db, query):
    connect_store(db).close()
    assert db.is_file()
    assert query(db, "SELECT max(version), count(*) FROM schema_version")[0] == (LATEST_VERSION, len(MIGRATIONS))
    tables = {name for (name,) in query(db, "SELECT table_name FROM information_schema.tables")}
    assert {"ga4_events", "events", "load_audit", "loaded_days", "ga4_report_rows", "schema_version"} <= tables
    columns = query(db, "SELECT column_name, data_type FROM information_schema.columns "
                        "WHERE table_name = 'ga4_events' ORDER BY ordinal_position")  # fmt: skip
    assert [name for name, _ in columns] == [*ARROW_SCHEMA.names, "kb_file", "kb_row"]  # a view over the raw files
    assert {"slim_events", "raw_files"} <= tables
    assert dict(columns)["event_params"] == (
        "STRUCT(\"key\" VARCHAR, \"value\" STRUCT(string_value VARCHAR, int_value BIGINT, float_value DOUBLE, "
        "double_value DOUBLE))[]"
    )
    assert [row[0] for row in query(db, "DESCRIBE load_audit")] == [
        "load_id", "source", "start_date", "end_date", "rows", "checksum", "started_at", "finished_at",
        "outcome", "message",
    ]  # fmt: skip
    assert [row[0] for row in query(db, "DESCRIBE loaded_days")][:5] == [
        "event_date", "rows", "checksum", "load_id", "loaded_at"
    ]  # fmt: skip


def test_reopening_applies_nothing_twice(db, query):
    for _ in range(3):
        connect_store(db).close()
    assert query(db, "SELECT count(*) FROM schema_version")[0][0] == len(MIGRATIONS)


def test_a_store_from_a_newer_kpi_bridge_is_refused(db):
    connect_store(db).close()
    with duckdb.connect(str(db)) as con:
        con.execute("INSERT INTO schema_version VALUES (999, now())")
    with pytest.raises(StoreError, match="newer than this KPI Bridge"):
        connect_store(db)


def test_reading_a_store_that_does_not_exist_says_to_load_first(tmp_path):
    with pytest.raises(StoreError, match="kpi load demo"):
        connect_store(tmp_path / "none.duckdb", read_only=True)


def test_a_file_that_is_not_a_warehouse_is_a_clear_error(tmp_path):
    bad = tmp_path / "notes.duckdb"
    bad.write_text("shopping list\n" * 1000)
    with pytest.raises(StoreError, match="Cannot open the warehouse"):
        connect_store(bad)


def test_a_memory_limit_duckdb_cannot_read_is_a_clear_error(tmp_path):
    """KPIBRIDGE_MEMORY_LIMIT is the user's: a value DuckDB refuses is named with the fix, not a traceback."""
    env = {"KPIBRIDGE_MEMORY_LIMIT": "two gigs", "PATH": "/usr/bin:/bin"}
    store = tmp_path / "w.duckdb"
    done = subprocess.run([sys.executable, "-c", "from kpibridge.cli import main; main()", "load", "demo",
                           "--db", str(store)], capture_output=True, text=True, env=env, timeout=120)
    message = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 1, message
    assert "KPIBRIDGE_MEMORY_LIMIT='two gigs' is not a memory size" in message and "like 2GB" in message
    assert "Traceback" not in message
    assert not store.exists()  # refused before the file is made


def test_waits_for_another_process_then_gives_up_with_a_clear_message(db):
    connect_store(db).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('locked', flush=True);"
         " time.sleep(2.5)", str(db)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout and holder.stdout.readline().strip() == "locked"
        clock = time.monotonic()
        with pytest.raises(StoreLockedError, match="in use by another kpi process"):
            connect_store(db, timeout=0.4)
        assert 0.3 < time.monotonic() - clock < 2.0
        con = connect_store(db, read_only=True, timeout=20)  # waits until the holder is gone
        assert con.execute("SELECT count(*) FROM ga4_events").fetchall() == [(0,)]
        con.close()
    finally:
        holder.kill()
        holder.wait()


def test_an_optimizer_left_out_for_some_statements_comes_back_after_them_even_on_an_error():
    con = duckdb.connect()
    setting = "SELECT current_setting('disabled_optimizers')"
    con.execute("SET disabled_optimizers = 'top_n'")
    with without_optimizer(con, "build_side_probe_side"):
        assert set(con.execute(setting).fetchall()[0][0].split(",")) == {"top_n", "build_side_probe_side"}
        assert con.execute("SELECT count(*) FROM range(10) a SEMI JOIN range(5) b ON a.range = b.range"
                           ).fetchall() == [(5,)]
    assert con.execute(setting).fetchall() == [("top_n",)]
    con.execute("RESET disabled_optimizers")
    with pytest.raises(duckdb.BinderException):
        with without_optimizer(con, "build_side_probe_side"):
            con.execute("SELECT no_such_column")
    assert con.execute(setting).fetchall() == [("",)]
    with without_optimizer(con, "an_optimizer_this_duckdb_does_not_have"):  # nothing to leave out
        assert con.execute(setting).fetchall() == [("",)]
