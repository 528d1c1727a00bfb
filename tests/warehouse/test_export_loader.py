"""`kpi load ga4-export`: round trips, idempotent reloads, foreign columns, and bad files that change nothing."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from stored_events import export_rows

from warehouse.connection import connect_store
from warehouse.sources.demo import DemoSource
from warehouse.store import run_load

DAYS_SQL = "SELECT event_date, rows, checksum FROM loaded_days ORDER BY 1"


def load_demo_directly(db: Path) -> None:
    con = connect_store(db)
    try:
        run_load(con, DemoSource(events=6_000, days=9, seed=7, end_date=date(2024, 1, 31)))
    finally:
        con.close()


def test_parquet_and_ndjson_round_trip_to_the_same_rows(kpi, export_dir, tmp_path, query):
    direct, from_files = tmp_path / "direct.duckdb", tmp_path / "files.duckdb"
    load_demo_directly(direct)
    result = kpi("load", "ga4-export", export_dir, "--db", from_files)
    assert result.exit_code == 0, result.output
    assert "Loaded 6,000 rows over 9 days" in result.output
    expected = query(direct, DAYS_SQL)
    assert query(from_files, DAYS_SQL) == expected  # same rows and same content checksum per day
    assert len(expected) == 9
    assert query(from_files, "SELECT count(*) FROM events")[0][0] == 6_000
    with duckdb.connect(str(from_files), read_only=True) as con:  # and row for row, nested values included
        con.execute(f"ATTACH '{direct}' AS direct (READ_ONLY)")
        for a, b in (("ga4_events", "direct.ga4_events"), ("direct.ga4_events", "ga4_events")):
            assert con.execute(f"SELECT count(*) FROM ({export_rows(a)} EXCEPT ALL {export_rows(b)})").fetchall() == [(0,)]


def test_loading_the_same_files_twice_doubles_nothing(kpi, export_dir, db, query):
    for _ in range(2):
        assert kpi("load", "ga4-export", str(export_dir / "events_*"), "--db", db).exit_code == 0
    assert query(db, "SELECT count(*) FROM ga4_events")[0][0] == 6_000
    assert query(db, "SELECT count(*), sum(rows) FROM loaded_days")[0] == (9, 6_000)
    assert query(db, "SELECT load_id, outcome, rows FROM load_audit ORDER BY 1") == [(1, "ok", 6_000), (2, "ok", 6_000)]
    assert query(db, "SELECT DISTINCT load_id FROM loaded_days") == [(2,)]


def test_a_file_replaces_only_its_own_days(kpi, export_dir, db, query, tmp_path):
    assert kpi("load", "ga4-export", export_dir, "--db", db).exit_code == 0
    before = dict((d, (r, c)) for d, r, c in query(db, DAYS_SQL))
    day_file = export_dir / "events_20240125.parquet"
    smaller = tmp_path / "late" / "events_20240125.parquet"
    smaller.parent.mkdir()
    pq.write_table(pq.read_table(day_file).slice(0, 100), smaller)
    result = kpi("load", "ga4-export", smaller, "--db", db, "--format", "json")
    assert result.exit_code == 0, result.output
    after = dict((d, (r, c)) for d, r, c in query(db, DAYS_SQL))
    assert after.pop("20240125")[0] == 100
    before.pop("20240125")
    assert after == before


def test_real_exports_with_more_columns_and_fewer_optional_ones(kpi, export_dir, db, query, tmp_path):
    """Extra top-level columns and struct fields are ignored; absent optional columns load as NULL."""
    source = export_dir / "events_20240123.parquet"
    real = tmp_path / "events_20240123.parquet"
    duckdb.execute(f"""COPY (SELECT event_date, event_timestamp, 0 AS event_previous_timestamp, event_name,
        event_params, user_pseudo_id, 1.5 AS event_value_in_usd,
        {{'category': device.category, 'mobile_brand_name': 'Apple', 'operating_system': device.operating_system,
          'browser': device.browser, 'web_info': {{'hostname': 'shop.example'}}}} AS device,
        geo, [{{'item_id': 'p-001', 'price': 19.9}}] AS items, 'WEB' AS platform, '1234' AS stream_id
        FROM read_parquet('{source}')) TO '{real}'""")
    result = kpi("load", "ga4-export", real, "--db", db)
    assert result.exit_code == 0, result.output
    row = query(db, """SELECT count(*), count(device.category), count(device.language), count(traffic_source),
        count(user_id), count(ecommerce), count(geo.city) FROM ga4_events""")[0]
    rows = pq.read_metadata(source).num_rows
    assert row == (rows, rows, 0, 0, 0, 0, rows)


@pytest.mark.parametrize(
    ("make_bad", "message"),
    [
        (lambda d: d / "nope" / "events_*.parquet", "No GA4 export files match"),
        (lambda d: d / "missing.parquet", "missing.parquet does not exist"),
        (lambda d: _truncated_parquet(d), "events_20240124.parquet cannot be read as Parquet"),
        (lambda d: _broken_ndjson(d), "broken.json line 3: not valid JSON"),
        (lambda d: _without_event_params(d), "events_20240124.parquet has no column 'event_params'"),
    ],
    ids=["empty-glob", "missing-path", "corrupt-parquet", "broken-ndjson-line", "missing-required-column"],
)
def test_bad_input_is_one_clear_sentence_and_changes_nothing(kpi, export_dir, db, query, tmp_path, make_bad, message):
    assert kpi("load", "ga4-export", export_dir, "--db", db).exit_code == 0
    before = query(db, DAYS_SQL), query(db, "SELECT count(*) FROM ga4_events")
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    # the bad file sits next to good ones, so a half-done load would show
    shutil.copy(export_dir / "events_20240123.parquet", bad_dir / "events_20240123.parquet")
    result = kpi("load", "ga4-export", make_bad(bad_dir), "--db", db)
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())  # rich may wrap long lines
    assert isinstance(result.exception, SystemExit)  # a clean exit, no traceback
    assert (query(db, DAYS_SQL), query(db, "SELECT count(*) FROM ga4_events")) == before
    outcomes = [o for (o,) in query(db, "SELECT outcome FROM load_audit ORDER BY load_id")]
    assert outcomes[0] == "ok" and set(outcomes[1:]) <= {"failed"}


def _truncated_parquet(folder: Path) -> Path:
    good = (folder / "events_20240123.parquet").read_bytes()
    (folder / "events_20240124.parquet").write_bytes(good[: len(good) // 2])
    return folder


def _broken_ndjson(folder: Path) -> Path:
    good = duckdb.execute(f"""SELECT to_json(e)::VARCHAR FROM read_parquet('{folder / "events_20240123.parquet"}') e
        LIMIT 2""").fetchall()
    lines = [good[0][0], good[1][0], '{"event_date": "20240124", "event_na', good[0][0]]
    (folder / "broken.json").write_text("\n".join(lines) + "\n")
    return folder


def _without_event_params(folder: Path) -> Path:
    path = folder / "events_20240124.parquet"
    duckdb.execute(f"""COPY (SELECT event_date, event_timestamp, event_name, user_pseudo_id
        FROM read_parquet('{folder / "events_20240123.parquet"}')) TO '{path}'""")
    return folder
