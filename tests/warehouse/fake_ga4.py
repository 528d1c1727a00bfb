"""A local GA4 Data API for tests: a gRPC server the real `google-analytics-data` client talks to.

The package ships no servicer, so the service is a generic handler keyed by its full name, with the
proto-plus classes' `serialize` / `deserialize` (../shared/reference/ga4.md §6.4). It answers
RunReport, BatchRunReports and GetMetadata from a list of records the test gives it, the way GA4 does:
filters, group by the requested dimensions, sum the metrics, drop all-zero rows, page by offset / limit,
and it can fail, stall or flag the data on request. Everything it served is kept for the test to compare.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from google.analytics.data_v1beta.types import (
    BatchRunReportsRequest,
    BatchRunReportsResponse,
    DimensionHeader,
    DimensionMetadata,
    DimensionValue,
    FilterExpression,
    GetMetadataRequest,
    Metadata,
    MetricHeader,
    MetricMetadata,
    MetricValue,
    PropertyQuota,
    QuotaStatus,
    ResponseMetaData,
    Row,
    RunReportRequest,
    RunReportResponse,
    SamplingMetadata,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/: also when run as a script (README)
from grpc_fake import serve, unary  # noqa: E402

SERVICE = "google.analytics.data.v1beta.BetaAnalyticsData"
NOT_SET = "(not set)"

STANDARD_DIMENSIONS = ("date", "eventName", "sessionDefaultChannelGroup", "deviceCategory", "country",
                       "sessionSource", "sessionMedium", "sessionCampaignName", "landingPage", "pagePath")
STANDARD_METRICS = ("sessions", "totalUsers", "newUsers", "engagedSessions", "eventCount", "eventValue",
                    "transactions", "grossPurchaseRevenue", "purchaseRevenue", "keyEvents")


@dataclass(frozen=True)
class Record:
    """One cell of the fake property: dimension values and additive metric values."""

    dims: dict[str, str]
    metrics: dict[str, float]

    @property
    def is_event(self) -> bool:
        return "eventName" in self.dims


@dataclass
class Fault:
    method: str  # "BatchRunReports", "RunReport", "GetMetadata"
    code: grpc.StatusCode
    message: str


@dataclass
class Served:
    """One report the fake answered: the request as received and the response as sent."""

    request: RunReportRequest
    response: RunReportResponse


@dataclass
class FakeGA4:
    records: list[Record]
    page_rows: int | None = None  # GA4 returns at most this many rows per page, whatever the limit
    custom_dimensions: tuple[str, ...] = ("customEvent:lead_source", "customEvent:payment_type", "customEvent:method")
    time_zone: str = "UTC"
    allowed_properties: tuple[str, ...] | None = None  # None: every property
    rejected_fields: tuple[str, ...] = ()  # in the metadata, but refused by reports (INVALID_ARGUMENT)
    thresholded: bool = False
    other_row_loss: bool = False
    sampled: tuple[int, int] | None = None  # (samples read, sampling space)
    stall_seconds: float = 0.0  # BatchRunReports calls hang this long (or until release()), then fail
    stall_from_call: int = 1  # ... starting with this call number
    faults: list[Fault] = field(default_factory=list)
    served: list[Served] = field(default_factory=list)
    calls: list[tuple[str, object]] = field(default_factory=list)
    tokens_used: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._release = threading.Event()
        self.stalled = threading.Event()  # set when a call starts stalling
        self._server: grpc.Server | None = None
        self.port = 0

    # ---- lifecycle -------------------------------------------------------------------------------
    def start(self, port: int = 0) -> FakeGA4:
        """Serve on 127.0.0.1 (a free port unless given); `endpoint` says where."""
        server, self.port = serve(SERVICE, {
            "RunReport": unary(self._run_report, RunReportRequest, RunReportResponse),
            "BatchRunReports": unary(self._batch_run_reports, BatchRunReportsRequest, BatchRunReportsResponse),
            "GetMetadata": unary(self._get_metadata, GetMetadataRequest, Metadata),
        }, port)
        self._server = server
        return self

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.stop(grace=0)

    def wait(self) -> None:
        """Serve until stopped."""
        if self._server is not None:
            self._server.wait_for_termination()

    def release(self) -> None:
        """Let stalled calls go on."""
        self._release.set()

    def __enter__(self) -> FakeGA4:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def fail_next(self, method: str, code: grpc.StatusCode, message: str, times: int = 1) -> None:
        self.faults.extend(Fault(method, code, message) for _ in range(times))

    def calls_to(self, method: str) -> int:
        return sum(1 for m, _ in self.calls if m == method)

    # ---- handlers --------------------------------------------------------------------------------
    def _enter(self, method: str, request: object, context: grpc.ServicerContext) -> None:
        with self._lock:
            self.calls.append((method, request))
            number = self.calls_to(method)
            fault = next((f for f in self.faults if f.method == method), None)
            if fault is not None:
                self.faults.remove(fault)
        if fault is not None:
            context.abort(fault.code, fault.message)
        prop = getattr(request, "property", None) or getattr(request, "name", "").removesuffix("/metadata")
        if self.allowed_properties is not None and prop not in self.allowed_properties:
            context.abort(grpc.StatusCode.PERMISSION_DENIED,
                          "User does not have sufficient permissions for this property. To learn more about "
                          "Property ID, see https://developers.google.com/analytics/devguides/reporting/data/v1/"
                          "property-id.")
        if method == "BatchRunReports" and self.stall_seconds and number >= self.stall_from_call:
            self.stalled.set()
            self._release.wait(self.stall_seconds)
            # a stalled call never answers: its client gave up (timeout) or was killed
            context.abort(grpc.StatusCode.UNAVAILABLE, "the fake stalled this call")

    def _get_metadata(self, request: GetMetadataRequest, context: grpc.ServicerContext) -> Metadata:
        self._enter("GetMetadata", request, context)
        return Metadata(name=request.name,
                        dimensions=[DimensionMetadata(api_name=n) for n in
                                    (*STANDARD_DIMENSIONS, *self.custom_dimensions)],
                        metrics=[MetricMetadata(api_name=n) for n in STANDARD_METRICS])

    def _run_report(self, request: RunReportRequest, context: grpc.ServicerContext) -> RunReportResponse:
        self._enter("RunReport", request, context)
        return self._report(request, context)

    def _batch_run_reports(self, request: BatchRunReportsRequest,
                           context: grpc.ServicerContext) -> BatchRunReportsResponse:
        self._enter("BatchRunReports", request, context)
        if len(request.requests) > 5:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "A batch may contain at most 5 requests.")
        return BatchRunReportsResponse(reports=[self._report(r, context) for r in request.requests])

    # ---- reports ---------------------------------------------------------------------------------
    def _report(self, request: RunReportRequest, context: grpc.ServicerContext) -> RunReportResponse:
        dims = [d.name for d in request.dimensions]
        mets = [m.name for m in request.metrics]
        known = {*STANDARD_DIMENSIONS, *self.custom_dimensions, *STANDARD_METRICS}
        for name in (*dims, *mets, *_filter_fields(request.dimension_filter)):
            if name not in known or name in self.rejected_fields:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                              f"Field {name} is not a valid dimension. For a list of valid dimensions and "
                              "metrics, see https://developers.google.com/analytics/devguides/reporting/data/v1/"
                              "api-schema")
        rows = self.answer(request)
        offset = int(request.offset)
        limit = int(request.limit) or 10_000
        if self.page_rows:
            limit = min(limit, self.page_rows)
        page = rows[offset:offset + limit]
        with self._lock:
            self.tokens_used += 3
            used = self.tokens_used
        response = RunReportResponse(
            dimension_headers=[DimensionHeader(name=n) for n in dims],
            metric_headers=[MetricHeader(name=n) for n in mets],
            rows=[Row(dimension_values=[DimensionValue(value=v) for v in d],
                      metric_values=[MetricValue(value=_text(x)) for x in m]) for d, m in page],
            row_count=len(rows),
            metadata=ResponseMetaData(
                time_zone=self.time_zone, currency_code="EUR", subject_to_thresholding=self.thresholded,
                data_loss_from_other_row=self.other_row_loss,
                sampling_metadatas=[SamplingMetadata(samples_read_count=self.sampled[0],
                                                     sampling_space_size=self.sampled[1])] if self.sampled else []),
        )
        if request.return_property_quota:
            response.property_quota = PropertyQuota(
                tokens_per_day=QuotaStatus(consumed=used, remaining=200_000 - used),
                tokens_per_hour=QuotaStatus(consumed=used, remaining=40_000 - used),
                concurrent_requests=QuotaStatus(consumed=0, remaining=10))
        with self._lock:
            self.served.append(Served(RunReportRequest(request), response))
        return response

    def answer(self, request: RunReportRequest) -> list[tuple[tuple[str, ...], tuple[float, ...]]]:
        """Every row of the report, sorted: the records GA4 would aggregate, grouped and summed."""
        dims = [d.name for d in request.dimensions]
        mets = [m.name for m in request.metrics]
        ranges = [(_day(r.start_date), _day(r.end_date)) for r in request.date_ranges]
        events = "eventName" in dims or "eventName" in _filter_fields(request.dimension_filter)
        groups: dict[tuple[str, ...], list[float]] = {}
        for rec in self.records:
            if rec.is_event != events:
                continue
            day = dt.datetime.strptime(rec.dims["date"], "%Y%m%d").date()
            if not any(s <= day <= e for s, e in ranges):
                continue
            if request.dimension_filter and not _matches(request.dimension_filter, rec.dims):
                continue
            key = tuple(rec.dims.get(d, NOT_SET) for d in dims)
            sums = groups.setdefault(key, [0.0] * len(mets))
            for i, m in enumerate(mets):
                sums[i] += rec.metrics.get(m, 0.0)
        return [(k, tuple(v)) for k, v in sorted(groups.items()) if any(v)]


def _day(text: str) -> dt.date:
    today = dt.datetime.now(dt.UTC).date()
    if text == "today":
        return today
    if text == "yesterday":
        return today - dt.timedelta(days=1)
    if text.endswith("daysAgo"):
        return today - dt.timedelta(days=int(text.removesuffix("daysAgo")))
    return dt.date.fromisoformat(text)


def _text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(round(value, 6))


def _filter_fields(expr: FilterExpression) -> list[str]:
    which = FilterExpression.pb(expr).WhichOneof("expr")
    if which in ("and_group", "or_group"):
        return [f for e in getattr(expr, which).expressions for f in _filter_fields(e)]
    if which == "not_expression":
        return _filter_fields(expr.not_expression)
    if which == "filter":
        return [expr.filter.field_name]
    return []


def _matches(expr: FilterExpression, dims: dict[str, str]) -> bool:
    which = FilterExpression.pb(expr).WhichOneof("expr")
    if which == "and_group":
        return all(_matches(e, dims) for e in expr.and_group.expressions)
    if which == "or_group":
        return any(_matches(e, dims) for e in expr.or_group.expressions)
    if which == "not_expression":
        return not _matches(expr.not_expression, dims)
    f = expr.filter
    value = dims.get(f.field_name, NOT_SET)
    kind = type(f).pb(f).WhichOneof("one_filter")
    if kind == "in_list_filter":
        return value in list(f.in_list_filter.values)
    if kind == "string_filter":
        target, match = f.string_filter.value, f.string_filter.match_type.name
        return {"EXACT": value == target, "CONTAINS": target in value,
                "BEGINS_WITH": value.startswith(target), "ENDS_WITH": value.endswith(target)}.get(match, False)
    raise NotImplementedError(f"the fake has no {kind}")


# ---- a small shop, as records ---------------------------------------------------------------------
CHANNELS = ("Organic Search", "Paid Search", "Direct", "Email")
DEVICES = ("desktop", "mobile")
COUNTRIES = ("Germany", "Austria")


def shop_records(days: Iterable[dt.date], seed: int = 1) -> list[Record]:
    """Population cells (per channel, device, country) and event cells (per event, channel, device, param)."""
    rng = random.Random(seed)
    out: list[Record] = []
    for day in days:
        date = day.strftime("%Y%m%d")
        for channel in CHANNELS:
            for device in DEVICES:
                for country in COUNTRIES:
                    sessions = rng.randint(20, 200)
                    out.append(Record(
                        {"date": date, "sessionDefaultChannelGroup": channel, "deviceCategory": device,
                         "country": country},
                        {"sessions": sessions, "engagedSessions": rng.randint(5, sessions),
                         "totalUsers": rng.randint(10, sessions), "newUsers": rng.randint(1, 15)}))
                base = {"date": date, "sessionDefaultChannelGroup": channel, "deviceCategory": device}
                for event in ("view_item", "add_to_cart"):
                    count = rng.randint(5, 80)
                    out.append(Record({**base, "eventName": event},
                                      {"eventCount": count, "sessions": rng.randint(1, count),
                                       "totalUsers": rng.randint(1, count)}))
                for source in ("form", "chat"):
                    count = rng.randint(0, 12)
                    out.append(Record({**base, "eventName": "generate_lead", "customEvent:lead_source": source},
                                      {"eventCount": count, "sessions": min(count, rng.randint(0, 9))}))
                for payment in ("card", "paypal"):
                    orders = rng.randint(1, 10)
                    out.append(Record({**base, "eventName": "purchase", "customEvent:payment_type": payment},
                                      {"eventCount": orders, "transactions": orders, "sessions": orders,
                                       "grossPurchaseRevenue": round(orders * rng.uniform(20, 90), 2)}))
                for method in ("email", "google"):
                    out.append(Record({**base, "eventName": "sign_up", "customEvent:method": method},
                                      {"eventCount": rng.randint(0, 6)}))
    return out


def main() -> None:
    """`python tests/warehouse/fake_ga4.py`: a fake property to try `kpi load ga4-api` on (README)."""
    import argparse

    parser = argparse.ArgumentParser(description="A local fake GA4 Data API (plaintext gRPC) serving a small shop.")
    parser.add_argument("--port", type=int, default=50051)
    parser.add_argument("--days", type=int, default=28, help="days of data, ending yesterday (UTC)")
    args = parser.parse_args()
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    fake = FakeGA4(shop_records(yesterday - dt.timedelta(days=i) for i in range(args.days))).start(args.port)
    print(f"Fake GA4 Data API on 127.0.0.1:{fake.port}, {args.days} days of a small shop. Ctrl-C stops it.",
          flush=True)
    try:
        fake.wait()
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
