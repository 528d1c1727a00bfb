"""Store Data API report rows: a date range replaced whole in one transaction, with its caveats, quota and audit."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from .clock import utc_now
from .sources.ga4_api import SOURCE, FetchedReports

_HASH_MODULUS = 1 << 64


@dataclass(frozen=True)
class ApiLoadSummary:
    """What one `kpi load ga4-api` did; `--format json` prints it."""

    load_id: int
    property: str
    start_date: str
    end_date: str
    requests: int
    batches: int
    calls: int
    rows: int
    replaced_rows: int
    checksum: str
    caveats: dict[str, int]
    quota: dict[str, dict[str, int]]
    other_properties: list[str]
    seconds: float
    skipped_requests: dict[str, str] = field(default_factory=dict)  # request id → why, with the KPIs it serves

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def store_reports(con: duckdb.DuckDBPyConnection, fetched: FetchedReports, started_at: dt.datetime,
                  seconds: float) -> ApiLoadSummary:
    """Replace the range's report rows with `fetched`, in one transaction with its audit row."""
    now = utc_now()
    load_id = _next_load_id(con)
    rows = _rows_table(fetched, load_id, now)
    start = min([fetched.start, *rows.column("date").to_pylist()])
    end = max([fetched.end, *rows.column("date").to_pylist()])
    try:
        con.execute("BEGIN TRANSACTION")
        # the rows of requests skipped this time (an unregistered custom definition) stay as they were
        kept = {"s": start, "e": end, "skipped": sorted(fetched.skipped)}
        replaced = int(con.execute("SELECT count(*) FROM ga4_report_rows WHERE date BETWEEN $s AND $e "
                                   "AND NOT list_contains($skipped, request_id)", kept).fetchall()[0][0])
        con.execute("DELETE FROM ga4_report_rows WHERE date BETWEEN $s AND $e "
                    "AND NOT list_contains($skipped, request_id)", kept)
        con.register("new_report_rows", rows)
        con.execute("INSERT INTO ga4_report_rows BY NAME SELECT * FROM new_report_rows")
        con.unregister("new_report_rows")
        con.register("new_reports", _reports_table(fetched, load_id, start, end, now))
        con.execute("INSERT INTO ga4_api_reports BY NAME SELECT * FROM new_reports")
        con.unregister("new_reports")
        # reports whose rows were all replaced by later loads say nothing any more
        con.execute("DELETE FROM ga4_api_reports WHERE load_id <> $id AND load_id NOT IN "
                    "(SELECT DISTINCT load_id FROM ga4_report_rows)", {"id": load_id})
        for name, (used, left) in sorted(fetched.quota.items()):
            con.execute("INSERT INTO ga4_api_quota VALUES ($id, $p, $q, $c, $r, $at)",
                        {"id": load_id, "p": fetched.property, "q": name, "c": used, "r": left, "at": now})
        count, digest = con.execute(
            "SELECT count(*), coalesce(sum(hash(request_id, date, dimensions, metrics)) % $m, 0)::UBIGINT "
            "FROM ga4_report_rows WHERE load_id = $id", {"id": load_id, "m": _HASH_MODULUS}).fetchall()[0]
        others = [r[0] for r in con.execute("SELECT DISTINCT property FROM ga4_report_rows WHERE property <> $p "
                                            "ORDER BY 1", {"p": fetched.property}).fetchall()]
        checksum = f"{int(digest):016x}"
        message = f"{fetched.property}, {len(fetched.reports)} requests, {fetched.calls} calls"
        audit(con, load_id, start, end, int(count), checksum, started_at, "ok", message)
        con.execute("COMMIT")
    except BaseException:
        _rollback(con)
        raise
    return ApiLoadSummary(
        load_id=load_id, property=fetched.property, start_date=start.isoformat(), end_date=end.isoformat(),
        requests=len(fetched.reports), batches=fetched.batches, calls=fetched.calls, rows=int(count),
        replaced_rows=replaced, checksum=checksum, caveats=fetched.caveats(),
        quota={k: {"consumed": c, "remaining": r} for k, (c, r) in sorted(fetched.quota.items())},
        other_properties=others, seconds=round(seconds, 3), skipped_requests=dict(fetched.skipped))


def record_failed_load(con: duckdb.DuckDBPyConnection, started_at: dt.datetime, outcome: str, message: str) -> None:
    """Best effort: a `failed` audit row; a failure to record must not hide the original error."""
    try:
        audit(con, _next_load_id(con), None, None, None, None, started_at, outcome, message[:2000])
    except duckdb.Error:
        pass


def audit(con: duckdb.DuckDBPyConnection, load_id: int, start: dt.date | None, end: dt.date | None,
          rows: int | None, checksum: str | None, started_at: dt.datetime, outcome: str, message: str) -> None:
    con.execute(
        "INSERT INTO load_audit VALUES ($id, $source, $start, $end, $rows, $checksum, $started, $finished, "
        "$outcome, $message)",
        {"id": load_id, "source": SOURCE, "start": start, "end": end, "rows": rows, "checksum": checksum,
         "started": started_at, "finished": utc_now(), "outcome": outcome, "message": message})


def _rows_table(fetched: FetchedReports, load_id: int, now: dt.datetime) -> pa.Table:
    request_ids, kpi_ids, dates, dims, mets = [], [], [], [], []
    for rid, report in sorted(fetched.reports.items()):
        if "date" not in report.dimension_names:
            if report.rows:
                raise ValueError(f"request {rid} has no `date` dimension")
            continue
        at = report.dimension_names.index("date")
        for dvalues, mvalues in report.rows:
            request_ids.append(rid)
            kpi_ids.append(list(fetched.kpis.get(rid, ())))
            dates.append(dt.datetime.strptime(dvalues[at], "%Y%m%d").date())
            dims.append(list(zip(report.dimension_names, dvalues, strict=True)))
            mets.append(list(zip(report.metric_names, mvalues, strict=True)))
    n = len(request_ids)
    return pa.table({
        "request_id": pa.array(request_ids, pa.string()),
        "kpi_ids": pa.array(kpi_ids, pa.list_(pa.string())),
        "date": pa.array(dates, pa.date32()),
        "dimensions": pa.array(dims, pa.map_(pa.string(), pa.string())),
        "metrics": pa.array(mets, pa.map_(pa.string(), pa.float64())),
        "property": pa.array([fetched.property] * n, pa.string()),
        "load_id": pa.array([load_id] * n, pa.int64()),
        "loaded_at": pa.array([now] * n, pa.timestamp("us")),
    })


def _reports_table(fetched: FetchedReports, load_id: int, start: dt.date, end: dt.date,
                   now: dt.datetime) -> pa.Table:
    rows = [{"load_id": load_id, "property": fetched.property, "request_id": r.request_id, "start_date": start,
             "end_date": end, "row_count": r.row_count, "pages": r.pages, "other_rows": r.other_rows,
             "data_loss_from_other_row": r.data_loss_from_other_row,
             "subject_to_thresholding": r.subject_to_thresholding, "sampled_fraction": r.sampled_fraction,
             "time_zone": r.time_zone, "currency_code": r.currency_code, "loaded_at": now}
            for r in fetched.reports.values()]
    schema = pa.schema([("load_id", pa.int64()), ("property", pa.string()), ("request_id", pa.string()),
                        ("start_date", pa.date32()), ("end_date", pa.date32()), ("row_count", pa.int64()),
                        ("pages", pa.int32()), ("other_rows", pa.int64()), ("data_loss_from_other_row", pa.bool_()),
                        ("subject_to_thresholding", pa.bool_()), ("sampled_fraction", pa.float64()),
                        ("time_zone", pa.string()), ("currency_code", pa.string()), ("loaded_at", pa.timestamp("us"))])
    return pa.Table.from_pylist(rows, schema=schema)


def _next_load_id(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("SELECT coalesce(max(load_id), 0) + 1 FROM load_audit").fetchall()[0][0])


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass


