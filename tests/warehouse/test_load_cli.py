"""`kpi load demo` from the command line: summaries, options, and a load killed half way."""

from __future__ import annotations

import json
import subprocess
import time
from datetime import date, timedelta

from warehouse.connection import connect_store

DAYS_SQL = "SELECT event_date, rows, checksum, load_id FROM loaded_days ORDER BY 1"


def test_json_summary(kpi, db, query):
    result = kpi("load", "demo", "--events", 3000, "--days", 3, "--end-date", "2024-01-31", "--db", db, "--format", "json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary | {"seconds": 0, "checksum": ""} == {
        "load_id": 1, "source": "demo", "rows": 3000, "days": 3, "start_date": "20240129",
        "end_date": "20240131", "checksum": "", "seconds": 0, "db": str(db),
        "notes": [], "provisional": ["20240131"],  # the demo's last day comes from its intraday table
    }  # fmt: skip
    assert query(db, "SELECT count(*) FROM events")[0][0] == 3000


def test_text_summary_ends_yesterday_by_default(kpi, db, query):
    result = kpi("load", "demo", "--events", 400, "--days", 2, "--db", db)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Loaded 400 rows over 2 days")
    yesterday = (date.today() - timedelta(days=1)).strftime("%Y%m%d")
    assert query(db, "SELECT max(event_date) FROM ga4_events")[0][0] == yesterday


def test_the_db_comes_from_the_environment(kpi, tmp_path, monkeypatch, query):
    target = tmp_path / "env" / "w.duckdb"
    monkeypatch.setenv("KPIBRIDGE_DB", str(target))
    assert kpi("load", "demo", "--events", 100, "--days", 1).exit_code == 0
    assert query(target, "SELECT count(*) FROM ga4_events")[0][0] == 100


def test_usage_errors_say_what_to_write(kpi, db):
    bad_date = kpi("load", "demo", "--end-date", "31.01.2024", "--db", db)
    assert bad_date.exit_code == 2 and "YYYY-MM-DD" in bad_date.output
    too_few = kpi("load", "demo", "--events", 5, "--days", 10, "--db", db)
    assert too_few.exit_code == 2 and "at least one event per day" in too_few.output
    assert not db.exists()


def test_a_killed_load_leaves_the_previous_load_intact(kpi, db, query, spawn_kpi):
    first = kpi("load", "demo", "--events", 2000, "--days", 4, "--seed", 1, "--end-date", "2024-01-31", "--db", db)
    assert first.exit_code == 0, first.output
    before = query(db, DAYS_SQL)
    # The second load starts with the same days, so a half-applied load would show in them.
    proc = spawn_kpi(
        "load", "demo", "--events", 720_000, "--days", 24, "--seed", 2, "--end-date", "2024-02-20", "--db", db,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        done = [proc.stderr.readline() for _ in range(2)]  # two days inserted, not yet committed
        assert all(line.startswith("loaded 202401") for line in done), done  # progress: days 1 and 3 of 24
        time.sleep(0.2)
        assert proc.poll() is None, "the load finished before it could be killed"
        proc.kill()  # SIGKILL: no cleanup runs
    finally:
        proc.kill()
        proc.wait()
    con = connect_store(db)  # opens (replaying the WAL) and is writable again
    try:
        assert con.execute(DAYS_SQL).fetchall() == before
        assert con.execute("SELECT count(*) FROM ga4_events").fetchall() == [(2000,)]
        assert con.execute("SELECT load_id, outcome FROM load_audit").fetchall() == [(1, "ok")]
    finally:
        con.close()
