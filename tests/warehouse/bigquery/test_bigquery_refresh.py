"""`kpi refresh --engine bigquery` through the real CLI and client, against bqemulator holding the demo export.

The reference is an independent computation path: the same export files loaded into a local warehouse and
refreshed by the DuckDB engine. The emulator holds the days as GA4 names them: daily `events_YYYYMMDD`
tables, the last day only as `events_intraday_YYYYMMDD`, and one day with both (the daily one must win).
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from bq_emulator import PROJECT
from bq_helpers import BOTH, DATASET, ONE_KPI, example_kpis, run_kpi

KEY = ("kpi_id", "date", "breakdown", "breakdown_value")


def _values(db: Path) -> dict[tuple[object, ...], tuple[object, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT kpi_id, date, breakdown, breakdown_value, value, numerator, denominator, "
                           "definition_hash, engine FROM kpi_values WHERE source = 'ga4_export'").fetchall()
    return {r[:4]: r[4:] for r in rows}


@pytest.fixture(scope="module")
def duckdb_reference(tmp_path_factory: pytest.TempPathFactory, demo_days: dict[str, pa.Table]) -> Path:
    """The same export refreshed by the DuckDB engine."""
    folder = tmp_path_factory.mktemp("export")
    for day, table in demo_days.items():
        pq.write_table(table, folder / f"events_{day}.parquet")
    db = folder / "reference.duckdb"
    assert run_kpi("load", "ga4-export", folder, "--db", db).returncode == 0
    done = run_kpi("refresh", "--db", db, "--kpis", example_kpis(tmp_path_factory.mktemp("reference") / "kpis"))
    assert done.returncode == 0, done.stderr
    return db


def _table_rows(emulator: str) -> dict[tuple[object, ...], tuple[object, ...]]:
    """The rows of the BigQuery table `--write-table` wrote, read back with the official client."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    with _emulator_env(emulator):
        client = bigquery.Client(project=PROJECT, credentials=AnonymousCredentials())
        rows = client.query(f"SELECT kpi_id, date, breakdown, breakdown_value, value, numerator, denominator, "
                            f"definition_hash FROM `{PROJECT}.{DATASET}.kpi_values`").result()
        return {tuple(r.values())[:4]: tuple(r.values())[4:] for r in rows}


def _merge_again(emulator: str, db: Path) -> None:
    from warehouse.bigquery.engine import BigQueryEngine
    from warehouse.bigquery.settings import BigQuerySettings
    from warehouse.bigquery.write_back import stored_values, write_table

    with _emulator_env(emulator), duckdb.connect(str(db), read_only=True) as con:
        engine = BigQueryEngine(BigQuerySettings(PROJECT, DATASET), announce=print)
        write_table(engine, stored_values(con), PROJECT, DATASET, "kpi_values")


@contextlib.contextmanager
def _emulator_env(url: str) -> Iterator[None]:
    os.environ["BIGQUERY_EMULATOR_HOST"] = url
    try:
        yield
    finally:
        del os.environ["BIGQUERY_EMULATOR_HOST"]


def _periods(db: Path) -> dict[tuple[object, ...], tuple[object, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT kpi_id, grain, period_start, period_end, breakdown, breakdown_value, value, "
                           "numerator, denominator, definition_hash, engine FROM kpi_period_values").fetchall()
    return {r[:6]: r[6:] for r in rows}


def _assert_same_periods(actual: dict, expected: dict) -> None:
    assert actual.keys() == expected.keys()
    for key, (value, num, den, hash_, _engine) in expected.items():
        assert actual[key][:3] == pytest.approx((value, num, den), rel=1e-12, nan_ok=True), key
        assert actual[key][3:] == (hash_, "bigquery"), key


def _assert_same(actual: dict, expected: dict) -> None:
    missing, extra = sorted(expected.keys() - actual.keys()), sorted(actual.keys() - expected.keys())
    assert not missing and not extra, (len(missing), missing[:5], len(extra), extra[:5])
    for key, (value, num, den, hash_, _engine) in expected.items():
        got = actual[key]
        assert got[:3] == pytest.approx((value, num, den), rel=1e-12, nan_ok=True), key
        assert got[3] == hash_, key


def test_bigquery_refresh_stores_what_the_duckdb_engine_computes(emulator: str, project: Path,
                                                                 duckdb_reference: Path, tmp_path: Path) -> None:
    db = tmp_path / "bq.duckdb"
    done = run_kpi("refresh", "--engine", "bigquery", "--kpis", project / "kpis", "--db", db,
                   env={"BIGQUERY_EMULATOR_HOST": emulator})
    assert done.returncode == 0, done.stderr
    assert "Dry run:" in done.stderr and "max_bytes_billed" in done.stderr
    assert "on BigQuery" in done.stdout
    stored, expected = _values(db), _values(duckdb_reference)
    assert len(expected) > 500
    _assert_same(stored, expected)
    assert {v[4] for v in stored.values()} == {"bigquery"}
    # exact distinct counts over the dashboard's periods, weeks and months: computed on BigQuery too
    periods, expected_periods = _periods(db), _periods(duckdb_reference)
    assert {k[1] for k in expected_periods} == {"period", "week", "month"}
    _assert_same_periods(periods, expected_periods)
    # the day that also has a stale intraday table was read from its daily table only
    assert any(k[1].strftime("%Y%m%d") == BOTH for k in stored)

    shown = run_kpi("values", "--kpi", "sessions", "--db", db, "--format", "csv")
    assert shown.returncode == 0, shown.stderr
    header, first = shown.stdout.splitlines()[:2]
    assert header.endswith(",source,engine") and first.endswith(",ga4_export,bigquery")

    again = run_kpi("refresh", "--engine", "bigquery", "--kpis", project / "kpis", "--db", db, "--format", "json",
                    "--write-table", f"{DATASET}.kpi_values", env={"BIGQUERY_EMULATOR_HOST": emulator})
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["write_table_rows"] == len(stored)
    merged = _table_rows(emulator)
    # the second refresh recomputed the values: a float sum may differ in its last bit (parallel summation order)
    assert merged.keys() == stored.keys()
    for key, row in stored.items():
        assert merged[key][:3] == pytest.approx(row[:3], rel=1e-12, nan_ok=True), key
        assert merged[key][3] == row[3], key
    _merge_again(emulator, db)  # idempotent: the same values MERGEd again change nothing
    assert _table_rows(emulator) == merged
    recomputed = json.loads(again.stdout)["recomputed"]
    assert recomputed["sessions"] == 3  # incremental: only GA4's 3-day late window …
    assert recomputed["cart_to_purchase_1d"] == 4  # … and the day before, whose 1-day window reaches into it
    _assert_same(_values(db), stored)  # recomputed days: equal up to the last bit of a float sum
    _assert_same_periods(_periods(db), expected_periods)  # the incremental refresh counts the same periods


def test_dry_run_computes_nothing(emulator: str, one_kpi_project: Path, tmp_path: Path) -> None:
    db = tmp_path / "bq.duckdb"
    done = run_kpi("refresh", "--engine", "bigquery", "--dry-run", "--kpis", one_kpi_project / "kpis", "--db", db,
                   env={"BIGQUERY_EMULATOR_HOST": emulator})
    assert done.returncode == 0, done.stderr
    assert "Dry run: nothing was computed or stored" in done.stdout
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM kpi_values").fetchall() == [(0,)]


class _FailingOnce(http.server.BaseHTTPRequestHandler):
    """Forwards to the emulator, but answers the first query job with BigQuery's 503 backendError."""

    target = ""
    failed: list[str] = []

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.command == "POST" and self.path.split("?")[0].endswith("/jobs") and b'"query"' in body \
                and b'"dryRun": true' not in body and not self.failed:
            self.failed.append(self.path)
            payload = (b'{"error": {"code": 503, "message": "Backend error. Please try again.", '
                       b'"errors": [{"reason": "backendError", "message": "Backend error."}], "status": "UNAVAILABLE"}}')
            self.send_response(503)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in {"host", "content-length"}}
        request = urllib.request.Request(self.target + self.path, data=body or None, method=self.command,
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=120) as answer:
                status, data, kind = answer.status, answer.read(), answer.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            status, data, kind = exc.code, exc.read(), exc.headers.get("Content-Type", "")
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def flaky_emulator(emulator: str) -> Iterator[tuple[str, list[str]]]:
    handler = type("Handler", (_FailingOnce,), {"target": emulator, "failed": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler.failed
    finally:
        server.shutdown()
        server.server_close()


def test_a_5xx_is_retried_and_announced(flaky_emulator: tuple[str, list[str]], one_kpi_project: Path,
                                        duckdb_reference: Path, tmp_path: Path) -> None:
    url, failed = flaky_emulator
    db = tmp_path / "bq.duckdb"
    done = run_kpi("refresh", "--engine", "bigquery", "--kpis", one_kpi_project / "kpis", "--db", db,
                   env={"BIGQUERY_EMULATOR_HOST": url})
    assert done.returncode == 0, done.stderr
    assert failed, "the stand-in never failed a query"
    assert "backendError" in done.stderr and "retrying in" in done.stderr
    stored = _values(db)
    assert {key[0] for key in stored} == {ONE_KPI}
    _assert_same(stored, {k: v for k, v in _values(duckdb_reference).items() if k[0] == ONE_KPI})


COLLECTED = "analytics_collected"  # an export from before July 2024: no session_traffic_source_last_click


@pytest.fixture(scope="module")
def collected_era(emulator: str, demo_days: dict[str, pa.Table], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo export as GA4 wrote it before July 2024, in the emulator and refreshed by the DuckDB engine."""
    from bq_emulator import load_table
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    older = {day: table.drop_columns(["session_traffic_source_last_click"]) for day, table in demo_days.items()}
    with _emulator_env(emulator):
        client = bigquery.Client(project=PROJECT, credentials=AnonymousCredentials())
        client.create_dataset(COLLECTED, exists_ok=True)
        for day, table in older.items():
            load_table(client, f"{PROJECT}.{COLLECTED}.events_{day}", table)
    folder = tmp_path_factory.mktemp("collected")
    for day, table in older.items():
        pq.write_table(table, folder / f"events_{day}.parquet")
    db = folder / "reference.duckdb"
    assert run_kpi("load", "ga4-export", folder, "--db", db).returncode == 0
    done = run_kpi("refresh", "--db", db, "--kpis", example_kpis(tmp_path_factory.mktemp("reference") / "kpis"))
    assert done.returncode == 0, done.stderr
    return db


def test_an_older_export_gets_the_sql_of_its_era(emulator: str, one_kpi_project: Path, collected_era: Path,
                                                  tmp_path: Path) -> None:
    """Without session_traffic_source_last_click the newest SQL would fail on BigQuery; the engine reads the era
    from the export's schema, and sessions are attributed from collected_traffic_source and the lookback, as the
    DuckDB engine attributes them on the same files (the sessions KPI, broken down by channel: every KPI's
    statements on the newest era are the first test's)."""
    db = tmp_path / "bq.duckdb"
    done = run_kpi("refresh", "--engine", "bigquery", "--dataset", COLLECTED, "--kpis", one_kpi_project / "kpis",
                   "--db", db, env={"BIGQUERY_EMULATOR_HOST": emulator})
    assert done.returncode == 0, done.stderr
    assert "Export shape: collected" in done.stderr
    stored = _values(db)
    expected = {k: v for k, v in _values(collected_era).items() if k[0] == ONE_KPI}
    assert any(k[2] == "channel" and k[3] not in ("Direct", "(not set)") for k in stored)
    _assert_same(stored, expected)
    _assert_same_periods(_periods(db), {k: v for k, v in _periods(collected_era).items() if k[0] == ONE_KPI})
