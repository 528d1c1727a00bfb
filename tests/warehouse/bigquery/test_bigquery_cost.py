"""The cost path through the real client, against a local stand-in for BigQuery's REST API.

The emulator answers every dry run with 0 bytes and never enforces `maximum_bytes_billed`, so this stand-in
answers with BigQuery's documented shapes instead: a table list, table resources with `lastModifiedTime`,
a dry-run job with `statistics.totalBytesProcessed`, and a query job failing with `bytesBilledLimitExceeded`.
It records every job it is sent, so the tests see what the client really asked for.
"""

from __future__ import annotations

import http.server
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from bq_helpers import run_kpi

PROJECT, DATASET = "kb-cost", "analytics_9"
DAYS = [f"202401{d:02d}" for d in range(1, 6)]
DRY_RUN_BYTES = 5_368_709_120  # 5 GiB
SECRET = "PRIVATE-KEY-MATERIAL-7f3a"


class StandIn(http.server.BaseHTTPRequestHandler):
    jobs: list[dict] = []
    dry_run_bytes = DRY_RUN_BYTES

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?")[0]
        ref = {"projectId": PROJECT, "datasetId": DATASET}
        if path.endswith(f"/datasets/{DATASET}/tables"):
            tables = [{"kind": "bigquery#table", "type": "TABLE", "tableReference": {**ref, "tableId": f"events_{d}"}}
                      for d in DAYS]
            return self._send(200, {"kind": "bigquery#tableList", "tables": tables, "totalItems": len(tables)})
        if m := re.search(r"/tables/(events_\d{8})$", path):
            return self._send(200, {"kind": "bigquery#table", "type": "TABLE", "tableReference": {**ref, "tableId": m[1]},
                                    "creationTime": "1706745600000", "lastModifiedTime": "1706745600000"})
        if re.search(r"/(queries|jobs)/[^/]+$", path):
            return self._send(400, _limit_error())
        return self._send(404, {"error": {"code": 404, "message": f"Not found: {path}", "errors": [{"reason": "notFound"}]}})

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.jobs.append({**body, "authorization": self.headers.get("Authorization")})
        ref = {"projectId": PROJECT, "jobId": body["jobReference"]["jobId"], "location": "US"}
        if body["configuration"].get("dryRun"):
            return self._send(200, {"kind": "bigquery#job", "jobReference": ref, "configuration": body["configuration"],
                                    "status": {"state": "DONE"},
                                    "statistics": {"totalBytesProcessed": str(self.dry_run_bytes),
                                                   "query": {"totalBytesProcessed": str(self.dry_run_bytes)}}})
        error = _limit_error()["error"]
        return self._send(200, {"kind": "bigquery#job", "jobReference": ref, "configuration": body["configuration"],
                                "status": {"state": "DONE", "errorResult": error["errors"][0], "errors": error["errors"]}})

    def log_message(self, *_args: object) -> None:
        pass


def _limit_error() -> dict:
    message = "Query exceeded limit for bytes billed: 10737418240. 21474836480 or higher required."
    return {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT",
                      "errors": [{"reason": "bytesBilledLimitExceeded", "message": message, "domain": "global"}]}}


@pytest.fixture
def stand_in() -> Iterator[tuple[str, type[StandIn]]]:
    handler = type("Handler", (StandIn,), {"jobs": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


def _refresh(url: str, tmp_path: Path, *extra: str) -> object:
    return run_kpi("refresh", "--engine", "bigquery", "--project", PROJECT, "--dataset", DATASET,
                   "--db", tmp_path / "w.duckdb", *extra, env={"BIGQUERY_EMULATOR_HOST": url})


def test_dry_run_prints_bytes_and_price_and_runs_nothing(stand_in: tuple[str, type[StandIn]], tmp_path: Path) -> None:
    url, handler = stand_in
    done = _refresh(url, tmp_path, "--dry-run")
    assert done.returncode == 0, done.stderr
    statements = len(handler.jobs)
    assert statements >= 1 and all(j["configuration"]["dryRun"] for j in handler.jobs)
    total = DRY_RUN_BYTES * statements
    price = total / 2**40 * 6.25  # BigQuery's on-demand price per TiB
    assert f"will process {total / 2**30:,.2f} GiB" in done.stderr
    assert f"${price:,.4f}" in done.stderr
    assert "nothing was computed or stored" in done.stdout


def test_every_query_carries_the_limit_and_exceeding_it_is_one_sentence(
        stand_in: tuple[str, type[StandIn]], tmp_path: Path) -> None:
    url, handler = stand_in
    done = _refresh(url, tmp_path)
    assert done.returncode == 1
    real = [j for j in handler.jobs if not j["configuration"].get("dryRun")]
    assert real and all(j["configuration"]["query"]["maximumBytesBilled"] == str(10 * 2**30) for j in real)
    error = done.stderr[done.stderr.index("Error:"):].strip()  # after the dry run's line
    assert error.startswith("Error: BigQuery stopped the query in project kb-cost, dataset analytics_9: it would "
                            "bill more than the limit of 10.00 GiB (max_bytes_billed)")
    assert "Traceback" not in done.stderr and error.count("\n") <= 2  # one sentence (soft-wrapped at most)
    assert "The stored KPI values are as they were." in error
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM kpi_values").fetchall() == [(0,)]

    handler.jobs.clear()
    raised = _refresh(url, tmp_path, "--max-bytes-billed", "123456789")
    limits = {j["configuration"]["query"].get("maximumBytesBilled") for j in handler.jobs
              if not j["configuration"].get("dryRun")}
    assert raised.returncode == 1 and limits == set()  # the dry run already says 5 GiB > 117.74 MiB: nothing ran
    assert "more than the limit of 117.74 MiB (max_bytes_billed); nothing was run" in raised.stderr


def test_credentials_are_never_printed(tmp_path: Path) -> None:
    key = tmp_path / "key.json"
    key.write_text(json.dumps({"type": "service_account", "client_email": "kpi@kb-cost.iam.gserviceaccount.com",
                               "private_key": f"-----BEGIN PRIVATE KEY-----\n{SECRET}\n-----END PRIVATE KEY-----\n",
                               "private_key_id": SECRET, "token_uri": "http://127.0.0.1:9/token"}))
    done = run_kpi("refresh", "--engine", "bigquery", "--project", PROJECT, "--dataset", DATASET,
                   "--credentials", key, "--db", tmp_path / "w.duckdb")
    assert done.returncode == 1
    assert "could not be read" in done.stderr
    assert SECRET not in done.stdout + done.stderr and "Traceback" not in done.stderr
