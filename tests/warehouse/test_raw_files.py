"""The raw export kept as its files (`warehouse/raw_files.py`, issue 13 §1): each Parquet export file of one day
is kept byte for byte, `ga4_events` reads the files as exported, a reloaded day's files are replaced, a failed
load leaves no file, a moved store reads the files beside it, a store of schema 18 is migrated with every row
and flattened param as it was, and one of schema 19 keeps the event-scoped fields its KPIs read a column each."""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
from stored_events import WITH_RAW, export_rows, old_store
from typer.testing import CliRunner

from generator.sql.export_shape import COLLECTED_TRAFFIC_SOURCE, struct_type
from kpibridge.cli import app as kpi_app
from warehouse.connection import connect_store
from warehouse.location import raw_folder
from warehouse.schema import COLUMN_NAMES
from warehouse.schema.events import COLUMNS
from warehouse.schema.migrations import MIGRATIONS, apply_migrations

KPIS = Path(__file__).resolve().parents[2] / "kpis"


def _files(db: Path) -> dict[int, tuple[str, str | None]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {int(i): (str(d), o) for i, d, o in con.execute("SELECT file_id, event_date, origin FROM raw_files")
                .fetchall()}


def test_each_parquet_file_of_a_day_is_kept_as_it_came_and_read_back_as_exported(kpi, export_dir, db, query):
    assert kpi("load", "ga4-export", export_dir, "--db", db).exit_code == 0
    files = _files(db)
    folder = raw_folder(db)
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{i}.parquet" for i in files)
    copied = {i: origin for i, (_, origin) in files.items() if origin}
    assert len(copied) == 5  # the five Parquet days; the four NDJSON days are written by the load
    for file_id, origin in copied.items():
        assert filecmp.cmp(folder / f"{file_id}.parquet", origin, shallow=False)
    # every exported row, as exported (the Parquet files here; the NDJSON rows are compared in test_export_loader)
    for file_id, origin in copied.items():
        table = pq.read_table(origin)
        exported = duckdb.connect().from_arrow(table).project(", ".join(f'"{c}"' for c in COLUMN_NAMES)).fetchall()
        stored = query(db, export_rows() + " WHERE kb_file = $f", {"f": file_id})
        assert sorted(stored, key=repr) == sorted(exported, key=repr) and len(stored) == table.num_rows
    # the slim table has a row for every raw event, linked by file and row
    assert query(db, "SELECT count(*) FROM slim_events") == query(db, "SELECT count(*) FROM ga4_events") \
        == query(db, f"SELECT count(*) FROM {WITH_RAW}")


def test_a_reloaded_day_replaces_its_files_and_a_failed_load_leaves_none(kpi, export_dir, db, query, tmp_path):
    assert kpi("load", "ga4-export", export_dir, "--db", db).exit_code == 0
    before = _files(db)
    rows = query(db, "SELECT count(*) FROM ga4_events")
    again = tmp_path / "again"
    again.mkdir()
    shutil.copy(export_dir / "events_20240123.parquet", again)
    assert kpi("load", "ga4-export", again, "--db", db).exit_code == 0
    after = _files(db)
    old = [i for i, (day, _) in before.items() if day == "20240123"]
    new = [i for i, (day, _) in after.items() if day == "20240123"]
    assert old and new and not set(old) & set(new)
    assert {p.name for p in raw_folder(db).iterdir()} == {f"{i}.parquet" for i in after}  # the old file deleted
    assert query(db, "SELECT count(*) FROM ga4_events") == rows
    bad = tmp_path / "bad"
    bad.mkdir()
    shutil.copy(export_dir / "events_20240124.parquet", bad)
    (bad / "events_20240125.json").write_text('{"event_date": "20240125", "event_na\n')
    failed = kpi("load", "ga4-export", bad, "--db", db)
    assert failed.exit_code == 1
    assert _files(db) == after and {p.name for p in raw_folder(db).iterdir()} == {f"{i}.parquet" for i in after}
    assert query(db, "SELECT count(*) FROM ga4_events") == rows


def test_a_moved_store_reads_the_files_beside_it(kpi, export_dir, db, query, tmp_path):
    assert kpi("load", "ga4-export", export_dir, "--db", db).exit_code == 0
    rows = query(db, export_rows())
    moved = tmp_path / "elsewhere" / "w.duckdb"
    moved.parent.mkdir()
    shutil.copy(db, moved)
    shutil.copytree(raw_folder(db), raw_folder(moved))
    shutil.rmtree(raw_folder(db))
    connect_store(moved).close()  # a read-write open makes the view again over the files beside it
    assert sorted(query(moved, export_rows()), key=repr) == sorted(rows, key=repr)


def test_a_store_of_schema_18_is_migrated_with_every_row_and_flattened_param(kpi, export_dir, tmp_path, query):
    """The store as schema 18 kept it (the export in the `ga4_events` table, flattened params beside it) is
    written out as files and read back: the same rows, and each flattened param what its list holds."""
    assert kpi("load", "ga4-export", export_dir, "--db", tmp_path / "new.duckdb").exit_code == 0
    old = tmp_path / "old.duckdb"
    con = old_store(old, 18, tmp_path / "new.duckdb")
    con.execute("ALTER TABLE ga4_events ADD COLUMN kp_1 STRUCT(string_value VARCHAR, int_value BIGINT, "
                "float_value DOUBLE, double_value DOUBLE)")
    con.execute("UPDATE ga4_events SET kp_1 = list_filter(event_params, lambda p: p.key = 'ga_session_id')[1].value")
    con.execute("INSERT INTO flat_params VALUES ('ga_session_id', 'kp_1', now())")
    rows = con.execute(export_rows()).fetchall()
    con.close()
    connect_store(old).close()
    assert sorted(query(old, export_rows()), key=repr) == sorted(rows, key=repr) and len(rows) > 1000
    assert query(old, "SELECT count(*) FROM slim_events") == [(len(rows),)]
    (differing,) = query(old, f"SELECT count(*) FROM {WITH_RAW} WHERE kp_1 IS DISTINCT FROM "  # noqa: S608
                         "list_filter(event_params, lambda p: p.key = 'ga_session_id')[1].value")[0]
    assert differing == 0
    assert query(old, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'ga4_events'") == [(0,)]
    assert len(list(raw_folder(old).iterdir())) == len(query(old, "SELECT DISTINCT event_date FROM ga4_events"))


def test_a_store_of_schema_19_keeps_the_fields_its_kpis_read_a_column_each(kpi, export_dir, tmp_path, query):
    """Schema 19 kept `device`, `geo` and `platform` whole in `slim_events`; migration 20 drops them, and the next
    refresh extracts from the raw files the fields the KPI files read: the same numbers as a store loaded now."""
    new, old = tmp_path / "new.duckdb", tmp_path / "old.duckdb"
    assert kpi("load", "ga4-export", export_dir, "--db", new).exit_code == 0
    con = old_store(old, 18, new)
    apply_migrations(con, [m for m in MIGRATIONS if m[0] <= 19])
    for column in COLUMNS:
        if column.name in ("device", "geo", "platform"):
            con.execute(f"ALTER TABLE slim_events ADD COLUMN {column.name} {column.duckdb_type}")
    con.execute("UPDATE slim_events SET device = r.device, geo = r.geo, platform = r.platform FROM ga4_events r "
                "WHERE slim_events.kb_file = r.kb_file AND slim_events.kb_row = r.kb_row")
    assert con.execute("SELECT count(*) FROM events WHERE device.category IS NOT NULL").fetchall()[0][0] > 1000
    con.close()
    for db in (old, new):  # the whole `kpi` app (conftest's `kpi` has the load commands only)
        result = CliRunner().invoke(kpi_app, ["refresh", "--db", str(db), "--kpis", str(KPIS)])
        assert result.exit_code == 0, result.output
    kept = {c for (c,) in query(old, "SELECT column_name FROM duckdb_columns() WHERE table_name = 'slim_events'")}
    assert not {"device", "geo", "platform"} & kept
    fields = "SELECT key FROM flat_params WHERE key LIKE 'field:%' ORDER BY 1"
    assert query(old, fields) == query(new, fields) == [("field:device.category",), ("field:geo.country",)]
    values = "SELECT kpi_id, date, breakdown, breakdown_value, value FROM kpi_values ORDER BY ALL"
    assert query(old, values) == query(new, values)
    assert query(old, "SELECT count(DISTINCT breakdown_value) FROM kpi_values WHERE breakdown = 'country'")[0][0] > 1


def test_a_store_of_schema_20_drops_the_clicks_record_and_counts_the_same(kpi, export_dir, tmp_path, query):
    """Schema 20 kept `collected_traffic_source` in `slim_events`; migration 21 drops it (the clicks are kept as
    their four fields, `kc_<n>`), and the store then loads and counts as one loaded now."""
    new, old = tmp_path / "new.duckdb", tmp_path / "old.duckdb"
    assert kpi("load", "ga4-export", export_dir, "--db", new).exit_code == 0
    con = old_store(old, 18, new)
    apply_migrations(con, [m for m in MIGRATIONS if m[0] <= 20])
    con.execute(f"ALTER TABLE slim_events ADD COLUMN collected_traffic_source {struct_type(COLLECTED_TRAFFIC_SOURCE)}")
    con.execute("UPDATE slim_events SET collected_traffic_source = r.collected_traffic_source FROM ga4_events r "
                "WHERE slim_events.kb_file = r.kb_file AND slim_events.kb_row = r.kb_row")
    con.execute("CREATE OR REPLACE VIEW events AS SELECT *, rowid AS event_row FROM slim_events")
    assert con.execute("SELECT count(collected_traffic_source.manual_source) FROM events").fetchall()[0][0] > 100
    con.close()
    for db in (old, new):  # a load after the migration inserts by position: then the refresh
        assert kpi("load", "ga4-export", export_dir, "--db", db).exit_code == 0
        result = CliRunner().invoke(kpi_app, ["refresh", "--db", str(db), "--kpis", str(KPIS)])
        assert result.exit_code == 0, result.output
    kept = {c for (c,) in query(old, "SELECT column_name FROM duckdb_columns() WHERE table_name = 'slim_events'")}
    assert "collected_traffic_source" not in kept
    values = "SELECT kpi_id, date, breakdown, breakdown_value, value FROM kpi_values ORDER BY ALL"
    assert query(old, values) == query(new, values)
    assert query(old, "SELECT count(DISTINCT breakdown_value) FROM kpi_values WHERE breakdown = 'channel'")[0][0] > 1


def test_a_store_copied_without_its_raw_files_is_refused_with_the_fix(kpi, export_dir, db, tmp_path):
    assert kpi("load", "ga4-export", export_dir, "--db", db).exit_code == 0
    alone = tmp_path / "alone" / "w.duckdb"
    alone.parent.mkdir()
    shutil.copy(db, alone)  # the .duckdb file only
    result = kpi("load", "ga4-export", export_dir, "--db", alone)
    assert result.exit_code == 1, result.output
    said = " ".join(result.output.split())
    assert f"keeps its raw events in {raw_folder(alone)}" in said and "9 of its files are not there" in said
    assert "copy or move the .raw folder together with the .duckdb file" in said and "Traceback" not in said


def test_the_slim_table_holds_every_column_and_field_the_kpi_statements_read():
    """`slim_events.READ` against what the example KPIs' statements read of the export (`export_columns`, read
    from the SQL itself), the params and GA4's last click aside (columns of their own in `slim_events`); each
    event-scoped field they read (`device.category`) is one the load makes a column of (`flat_params.params_of`),
    and so is each field of the click the events collected (computed from `collected_traffic_source`)."""
    from generator.compile import compile_paths
    from generator.sql import render_plan_sql
    from generator.sql.attribution_methods import render_methods_sql
    from generator.sql.export_columns import export_columns
    from generator.sql.export_shape import CLICK, click_key, field_key
    from warehouse.flat_params import params_of
    from warehouse.slim_events import CLICK_SOURCE, FIELD_SOURCES, READ

    plan = compile_paths([KPIS]).plan
    read: dict[str, set[str]] = {}
    for sql in (render_plan_sql(plan, "duckdb"), render_methods_sql("duckdb")):
        for column, fields in export_columns(sql, "duckdb").items():
            read.setdefault(column, set()).update(fields)
    assert {"device", "geo", "ecommerce", "collected_traffic_source"} <= set(read)
    with duckdb.connect() as con:
        flattened = {p.key for p in params_of(con, plan)}
    for column, fields in read.items():
        if column in ("event_params", "session_traffic_source_last_click"):
            continue
        if column in FIELD_SOURCES:
            assert column not in READ and fields, column  # a column of each field read, not the record
            assert {field_key(f"{column}.{field}") for field in fields} <= flattened, (column, fields)
            continue
        if column == CLICK_SOURCE:  # read for the clicks only: a column of each of their four fields
            assert column not in READ and {click_key(field) for field in CLICK} <= flattened
            continue
        assert column in READ and (fields <= set(READ[column]) if READ[column] else not fields), (column, fields)
