"""dashboards/data.py: the serving path, short-lived read-only reads, the lock retry, status checks."""

from __future__ import annotations

import ast
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import expected
import pytest
import streamlit as st
from fixture_warehouse import CHANNELS, DATA_END, DATA_START, build_empty_db, build_serving_db

from dashboards import data
from warehouse.serving_contract import CONTRACT_VERSION, VERSION_KEY, ServingBusy

DASHBOARDS = Path(data.__file__).parent


def test_serving_path_sits_beside_the_store():
    assert data.serving_path(Path(".kpibridge/warehouse.duckdb")) == Path(
        ".kpibridge/warehouse.serving.duckdb"
    )
    assert data.serving_path(Path("/x/y/prod.duckdb")) == Path("/x/y/prod.serving.duckdb")


def test_serving_db_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv(data.SERVING_ENV, str(tmp_path / "s.duckdb"))
    assert data.serving_db_from_env() == tmp_path / "s.duckdb"
    monkeypatch.delenv(data.SERVING_ENV)
    monkeypatch.setenv("KPIBRIDGE_DB", str(tmp_path / "store.duckdb"))
    assert data.serving_db_from_env() == tmp_path / "store.serving.duckdb"


def test_status_of_a_good_warehouse(warehouse):
    status = data.warehouse_status(warehouse.path)
    assert status.ok
    assert (status.data_start, status.data_end) == (DATA_START, DATA_END)


def test_status_missing_empty_unreadable(tmp_path):
    assert data.warehouse_status(tmp_path / "none.duckdb").state == "missing"
    assert not (tmp_path / "none.duckdb").exists()  # reading never creates the file
    build_empty_db(tmp_path / "empty.duckdb")
    assert data.warehouse_status(tmp_path / "empty.duckdb").state == "empty"
    (tmp_path / "bad.duckdb").write_bytes(b"x" * 5000)
    assert data.warehouse_status(tmp_path / "bad.duckdb").state == "unreadable"


def test_definitions_have_tuples_and_none(warehouse):
    frame = data.kpi_definitions(warehouse.path)
    row = frame.set_index("kpi_id").loc["checkout_conversion"]
    assert row["breakdowns"] == ("channel", "device_category")
    assert row["currency"] is None and row["api_note"] is None


def test_daily_totals_are_only_totals_in_range(warehouse):
    frame = data.daily_totals(warehouse.path, date(2026, 10, 1), date(2026, 10, 7))
    assert set(frame["date"]) == {date(2026, 10, d) for d in range(1, 8)}
    assert len(frame) == 7 * len(warehouse.kpis)  # revenue's Data API copies are not counted twice


def test_caveats_only_on_days_taken_from_the_data_api(warehouse):
    frame = data.daily_totals(warehouse.path, date(2026, 3, 1), DATA_END).set_index(
        ["kpi_id", "date"]
    )
    assert frame.loc[("returning_users", date(2026, 3, 10))][["source", "caveats"]].tolist() == [
        "ga4_api",
        ("thresholded",),
    ]
    assert frame.loc[("returning_users", date(2026, 3, 12)), "caveats"] == ("other_row", "sampled")
    assert frame.loc[("returning_users", date(2026, 3, 11)), "caveats"] == ()
    # Revenue's Data API copy of 20 Oct is flagged, but the export holds that day too and wins.
    assert frame.loc[("revenue", date(2026, 10, 20))][["source", "caveats"]].tolist() == ["ga4_export", ()]
    flagged = {key for key, caveats in frame["caveats"].items() if caveats}
    assert flagged == {("returning_users", date(2026, 3, 10)), ("returning_users", date(2026, 3, 12))}
    rows = data.breakdown_rows(
        warehouse.path, "checkout_conversion", date(2026, 3, 1), date(2026, 3, 2)
    )
    assert len(rows) and set(rows["caveats"]) == {()}


def test_totals_over_reads_the_days_of_its_ranges_only(warehouse):
    ranges = [(date(2026, 3, 9), date(2026, 3, 12)), (date(2026, 10, 26), DATA_END)]
    frame = data.totals_over(warehouse.path, ranges)
    days = {day for start, end in ranges for day in _days(start, end)}
    assert set(frame["date"]) == days  # nothing from the months between
    for kpi in warehouse.kpis:
        got = frame[frame["kpi_id"] == kpi.kpi_id]
        counted = [row for start, end in ranges for row in expected.totals(warehouse, kpi.kpi_id, start, end)]
        assert list(got["date"]) == [row["date"] for row in counted]
        assert list(got["source"]) == [row["source"] for row in counted]
        assert list(got["value"]) == pytest.approx([row["value"] for row in counted])
    flagged = {(row.kpi_id, row.date): row.caveats for row in frame.itertuples() if row.caveats}
    assert flagged == {("returning_users", date(2026, 3, 10)): ("thresholded",),
                       ("returning_users", date(2026, 3, 12)): ("other_row", "sampled")}


def test_totals_over_a_segment_reads_that_breakdown_value(warehouse):
    ranges = [(date(2026, 10, 1), date(2026, 10, 3)), (date(2026, 10, 20), DATA_END)]
    frame = data.totals_over(warehouse.path, ranges, ("channel", CHANNELS[0]))
    days = {day for start, end in ranges for day in _days(start, end)}
    assert set(frame["date"]) == days
    rows = {(r["kpi_id"], r["date"]): r["value"] for r in warehouse.values
            if r["breakdown"] == "channel" and r["breakdown_value"] == CHANNELS[0] and r["date"] in days
            and r["source"] == "ga4_export"}
    assert {(r.kpi_id, r.date): r.value for r in frame.itertuples()} == pytest.approx(rows)


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def test_a_run_shares_one_connection(monkeypatch, warehouse):
    opened = []
    connect = duckdb.connect
    monkeypatch.setattr(duckdb, "connect", lambda *a, **k: opened.append(a) or connect(*a, **k))
    monkeypatch.setattr(data, "_idle", [])  # no instance left over by other tests
    with data.one_connection(warehouse.path):
        assert data.warehouse_status(warehouse.path).ok
        data.kpi_definitions(warehouse.path)
        data.kpi_targets(warehouse.path)
        data.daily_totals(warehouse.path, date(2026, 10, 1), DATA_END)
    assert len(opened) == 1
    (idle,) = data._idle  # kept for the next run, with the file detached: no instance holds it between runs
    assert idle.execute("SELECT database_name FROM duckdb_databases() WHERE NOT internal").fetchall() == [("memory",)]
    st.cache_data.clear()
    with data.one_connection(warehouse.path):  # the next run attaches the file to it: no new instance
        assert data.warehouse_status(warehouse.path).ok
        data.kpi_targets(warehouse.path)
    assert len(opened) == 1 and data._idle == [idle]
    data.value_findings(warehouse.path)  # outside the block: a connection of its own, closed at once
    assert len(opened) == 2


def test_a_file_swapped_during_a_run_is_read_from_the_new_file(tmp_path, warehouse):
    db = tmp_path / "swap.duckdb"
    db.write_bytes(warehouse.path.read_bytes())
    with data.one_connection(db):
        assert data.warehouse_status(db).ok  # opens the shared connection on the first file
        replacement = tmp_path / "next.duckdb"
        build_empty_db(replacement)
        replacement.replace(db)  # what `kpi refresh` does
        assert data.kpi_definitions(db).empty  # the new file's (empty) table, not the old file's rows
    assert data.warehouse_status(db).state == "empty"


@pytest.mark.parametrize("version", [None, "0", str(CONTRACT_VERSION + 1)])
def test_a_serving_file_of_another_contract_version_is_not_read_around(tmp_path, version):
    db = tmp_path / "other.serving.duckdb"
    build_serving_db(db)
    with duckdb.connect(str(db)) as con:
        con.execute("DELETE FROM warehouse_info WHERE key = ?", [VERSION_KEY])
        if version is not None:
            con.execute("INSERT INTO warehouse_info VALUES (?, ?)", [VERSION_KEY, version])
    status = data.warehouse_status(db)
    assert status.state == "outdated" and not status.ok
    assert status.detail == (
        "This serving file was written by another version of KPI Bridge; the next `kpi refresh` rebuilds it."
    )


def test_a_new_file_version_is_read_at_once(tmp_path, warehouse):
    db = tmp_path / "swap.duckdb"
    build_empty_db(db)
    assert data.warehouse_status(db).state == "empty"
    # `kpi refresh` swaps a new file in with os.replace; the cache is keyed by the file's version.
    db.unlink()
    db.write_bytes(warehouse.path.read_bytes())
    assert data.warehouse_status(db).ok


HOLD_LOCK = """
import duckdb, sys, time
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


def _hold_write_lock(path: Path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_read_waits_for_a_writer_then_reads(tmp_path, warehouse):
    db = tmp_path / "locked.duckdb"
    db.write_bytes(warehouse.path.read_bytes())
    writer = _hold_write_lock(db, 1.0)
    try:
        started = time.monotonic()
        frame = data.read_df(db, "SELECT count(*) AS n FROM kpi_definitions")
        assert int(frame["n"].iloc[0]) == len(warehouse.kpis)
        assert time.monotonic() - started > 0.3  # it really waited for the lock
    finally:
        writer.wait(10)


def test_a_run_waits_for_a_writer_too(tmp_path, warehouse):
    db = tmp_path / "locked.duckdb"
    db.write_bytes(warehouse.path.read_bytes())
    writer = _hold_write_lock(db, 1.0)
    try:
        started = time.monotonic()
        with data.one_connection(db):
            assert len(data.kpi_definitions(db)) == len(warehouse.kpis)
        assert time.monotonic() - started > 0.3
    finally:
        writer.wait(10)


def test_read_gives_up_with_a_clear_error(tmp_path, warehouse):
    db = tmp_path / "locked.duckdb"
    db.write_bytes(warehouse.path.read_bytes())
    writer = _hold_write_lock(db, 2.0)
    try:
        with pytest.raises(ServingBusy, match="locked by a writer"):
            data.read_df(db, "SELECT 1", timeout=0.3)
    finally:
        writer.wait(10)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_only_data_py_opens_duckdb_and_nothing_imports_the_generator():
    duckdb_users = sorted(
        str(p.relative_to(DASHBOARDS)) for p in DASHBOARDS.rglob("*.py") if "duckdb" in _imports(p)
    )
    assert duckdb_users == ["data.py"]
    assert not [p for p in DASHBOARDS.rglob("*.py") if "generator" in _imports(p)]
