"""Run the generated Data API requests against a GA4 property: batched, paged, retried, checked first.

The requests are exactly those of `build/queries/ga4/requests.json` (`compile_api_plan`), in its batches
of at most 5; a report with more rows than one page returns is fetched again from the next offset until
its `row_count` is reached. Everything is held in memory until the range is complete: the store is only
written (in one transaction, `warehouse/ga4_rows.py`) once every row is in, so a failed or killed run
changes nothing.
"""

from __future__ import annotations

import builtins
import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from google.analytics.data_v1beta.types import (
    BatchRunReportsRequest,
    BatchRunReportsResponse,
    RunReportRequest,
    RunReportResponse,
)
from google.api_core import exceptions as gexc

from generator.issues import did_you_mean
from generator.plan.api_plan import ApiPlan, ApiRequest
from generator.plan.queries import QueryPlan

from .ga4_client import Ga4Connection
from .ga4_errors import ApiLoadError, CallContext, explain
from .ga4_retry import RetriesExhausted, RetryPolicy, call_with_retry

SOURCE = "ga4_api"
BATCH_SIZE = 5
_DATE_RE = re.compile(r"^(\d{4}-\d{2}-\d{2}|\d+daysAgo|yesterday|today)$")
OTHER = "(other)"

Say = Callable[[str], None]
T = TypeVar("T")


@dataclass
class ReportResult:
    """All pages of one request's report, and what GA4 said about the data."""

    request_id: str
    dimension_names: tuple[str, ...] = ()
    metric_names: tuple[str, ...] = ()
    rows: list[tuple[tuple[str, ...], tuple[float | None, ...]]] = field(default_factory=list)
    row_count: int = 0
    pages: int = 0
    subject_to_thresholding: bool = False
    data_loss_from_other_row: bool = False
    samples_read: int = 0
    sampling_space: int = 0
    time_zone: str | None = None
    currency_code: str | None = None

    @property
    def complete(self) -> bool:
        return self.pages > 0 and len(self.rows) >= self.row_count

    @property
    def other_rows(self) -> int:
        return sum(1 for dims, _ in self.rows if OTHER in dims)

    @property
    def sampled_fraction(self) -> float | None:
        return self.samples_read / self.sampling_space if self.sampling_space else None

    def add_page(self, response: RunReportResponse) -> int:
        """Append one response page; return how many rows it had."""
        dims = tuple(h.name for h in response.dimension_headers)
        mets = tuple(h.name for h in response.metric_headers)
        if self.pages and (dims, mets) != (self.dimension_names, self.metric_names):
            raise ApiLoadError(f"GA4 answered request {self.request_id} with different columns from one page to "
                               "the next; run the load again.")
        self.dimension_names, self.metric_names = dims, mets
        for row in response.rows:
            self.rows.append((tuple(v.value for v in row.dimension_values),
                              tuple(_number(v.value) for v in row.metric_values)))
        self.row_count = int(response.row_count)
        self.pages += 1
        meta = response.metadata
        self.subject_to_thresholding |= bool(meta.subject_to_thresholding)
        self.data_loss_from_other_row |= bool(meta.data_loss_from_other_row)
        if self.pages == 1:  # sampling is per date range, repeated on every page
            for sampling in meta.sampling_metadatas:
                self.samples_read += int(sampling.samples_read_count)
                self.sampling_space += int(sampling.sampling_space_size)
        self.time_zone = meta.time_zone or self.time_zone
        self.currency_code = meta.currency_code or self.currency_code
        return len(response.rows)


@dataclass
class FetchedReports:
    """Everything one load read from GA4, ready to store."""

    property: str
    start: dt.date
    end: dt.date
    reports: dict[str, ReportResult]
    kpis: dict[str, tuple[str, ...]]  # request id → KPI ids that read it
    quota: dict[str, tuple[int, int]]  # quota name → (consumed, remaining), from the last response
    calls: int
    batches: int
    skipped: dict[str, str] = field(default_factory=dict)  # request id → why it was not run (and the fix)

    @builtins.property  # in this class body `property` names the field above (mypy reads it so)
    def rows(self) -> int:
        return sum(len(r.rows) for r in self.reports.values())

    def caveats(self) -> dict[str, int]:
        """How many reports GA4 flagged, per caveat (for the summary)."""
        found = {"thresholded": 0, "sampled": 0, "other_row": 0}
        for r in self.reports.values():
            found["thresholded"] += r.subject_to_thresholding
            found["sampled"] += r.sampled_fraction is not None
            found["other_row"] += r.data_loss_from_other_row or r.other_rows > 0
        return found


def normalize_property(text: str) -> str:
    """`123456` or `properties/123456` → `properties/123456`."""
    digits = text.strip().removeprefix("properties/")
    if not digits.isdigit():
        raise ApiLoadError(f"The GA4 property `{text}` is not a property id: use the number shown in GA4 Admin, "
                           "Property details (e.g. --property 123456789).")
    return f"properties/{digits}"


def check_date(text: str, option: str) -> str:
    if not _DATE_RE.match(text):
        raise ApiLoadError(f"{option} {text!r} is not a date GA4 accepts: write YYYY-MM-DD, NdaysAgo (e.g. "
                           "28daysAgo), yesterday or today.")
    if text[0].isdigit() and "-" in text:
        try:
            dt.date.fromisoformat(text)
        except ValueError:
            raise ApiLoadError(f"{option} {text!r} is not a calendar date.") from None
    return text


def check_range(start: str, end: str) -> None:
    """A start after the end is refused before any request (when the order does not depend on today)."""
    if ("-" in start) != ("-" in end):
        return  # one absolute, one relative: GA4 resolves the relative one in the property's time zone
    today = dt.date(2000, 1, 1)  # relative dates keep their order whatever today is
    if resolve_date(start, today) > resolve_date(end, today):
        raise ApiLoadError(f"--start {start} is after --end {end}: give the earlier day first.")


def resolve_date(text: str, today: dt.date) -> dt.date:
    """A GA4 date (`YYYY-MM-DD`, `NdaysAgo`, `yesterday`, `today`) as a day, given today in the property's zone."""
    if text == "today":
        return today
    if text == "yesterday":
        return today - dt.timedelta(days=1)
    if text.endswith("daysAgo"):
        return today - dt.timedelta(days=int(text.removesuffix("daysAgo")))
    return dt.date.fromisoformat(text)


def today_in(time_zone: str | None) -> dt.date:
    """Today in the property's reporting time zone (GA4 resolves relative dates there); UTC when unknown."""
    try:
        zone: dt.tzinfo = ZoneInfo(time_zone) if time_zone else dt.UTC
    except (ZoneInfoNotFoundError, ValueError):
        zone = dt.UTC
    return dt.datetime.now(zone).date()


def request_fields(request: ApiRequest) -> tuple[str, ...]:
    """Every API name a request uses: dimensions, metrics, and the fields its filter reads."""
    names: list[str] = [*request.dimensions, *request.metrics]

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("fieldName"), str):
                names.append(node["fieldName"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(request.dimension_filter)
    return tuple(dict.fromkeys(names))


def kpis_by_request(api: ApiPlan) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """Per request: the KPI ids that read it, and labels for messages (`revenue (by channel)`)."""
    ids: dict[str, set[str]] = {}
    labels: dict[str, set[str]] = {}
    for kid, k in api.kpis.items():
        for slots in (k.numerator, k.denominator):
            for breakdown, slot in slots.items():
                ids.setdefault(slot.request_id, set()).add(kid)
                labels.setdefault(slot.request_id, set()).add(f"{kid} (by {breakdown})" if breakdown else kid)
    return ({r: tuple(sorted(v)) for r, v in ids.items()}, {r: tuple(sorted(v)) for r, v in labels.items()})


def unreachable_kpis(plan: QueryPlan, api: ApiPlan) -> dict[str, str]:
    """KPIs the Data API cannot compute, with the reason (they come from the export only)."""
    return {kid: k.reason for kid, k in sorted(api.kpis.items()) if k.reason and kid in plan.kpis}


class ReportFetcher:
    """Runs one load's requests for one date range; `fetch()` returns everything or raises ApiLoadError."""

    def __init__(self, api: ApiPlan, property_: str, start: str, end: str, conn: Ga4Connection, *,
                 policy: RetryPolicy, timeout: float, say: Say) -> None:
        self.api = api
        self.property = property_
        self.date_range = {"startDate": start, "endDate": end}
        self.conn = conn
        self.policy = policy
        self.timeout = timeout
        self.say = say
        self.kpi_ids, self.kpi_labels = kpis_by_request(api)
        self.fields = {rid: request_fields(r) for rid, r in api.requests.items()}
        self.quota: dict[str, tuple[int, int]] = {}
        self.calls = 0

    def fetch(self) -> FetchedReports:
        skipped = self.check_fields()
        results = {rid: ReportResult(rid) for rid in sorted(self.api.requests) if rid not in skipped}
        queue: list[tuple[str, int]] = [(r.request_id, 0) for batch in self.api.batches() for r in batch
                                        if r.request_id not in skipped]
        batches = 0
        while queue:
            chunk, queue = queue[:BATCH_SIZE], queue[BATCH_SIZE:]
            batches += 1
            what = f"batch {batches}"
            response = self._call(partial(self._batch, chunk), what, [rid for rid, _ in chunk])
            rows = 0
            for (rid, offset), report in zip(chunk, response.reports, strict=True):
                got = results[rid].add_page(report)
                rows += got
                if report.property_quota:
                    self._note_quota(report)
                if not results[rid].complete:
                    if got == 0:
                        raise ApiLoadError(f"GA4 said request {rid} has {results[rid].row_count:,} rows but "
                                           f"returned none from offset {offset:,}; run the load again.")
                    queue.append((rid, offset + got))
            self.say(f"{what.capitalize()}: {len(chunk)} report{'s' if len(chunk) != 1 else ''}, {rows:,} rows"
                     + (f" ({len(queue)} more to fetch)" if queue else ""))
        first_zone = next((r.time_zone for r in results.values() if r.time_zone), None)
        today = today_in(first_zone)
        start = resolve_date(self.date_range["startDate"], today)
        end = resolve_date(self.date_range["endDate"], today)
        return FetchedReports(self.property, start, end, results, self.kpi_ids, dict(self.quota), self.calls,
                              batches, skipped)

    def check_fields(self) -> dict[str, str]:
        """Ask GetMetadata which fields the property has; the requests GA4 would reject are skipped, each with
        the KPIs it serves and how to register what it needs (request id → that sentence); the others run."""
        try:
            metadata = self._call(
                lambda: self.conn.client.get_metadata(name=f"{self.property}/metadata", timeout=self.timeout,
                                                      retry=None),
                "the field check (GetMetadata)", [])
        except ApiLoadError as exc:
            if isinstance(exc.__cause__, gexc.MethodNotImplemented):
                self.say("The endpoint has no GetMetadata; the fields are checked by the reports themselves.")
                return {}
            raise
        known = {d.api_name for d in metadata.dimensions} | {m.api_name for m in metadata.metrics}
        problems = []
        skipped: dict[str, str] = {}
        for name in sorted({f for fields in self.fields.values() for f in fields} - known):
            requests = sorted(rid for rid, fields in self.fields.items() if name in fields)
            users = sorted({k for rid in requests for k in self.kpi_labels.get(rid, ())})
            fix = (f"register `{name.removeprefix('customEvent:')}` as an event-scoped custom dimension in GA4 "
                   "Admin, Custom definitions" if name.startswith("customEvent:") else "check the API name")
            problem = (f"`{name}` (used by {', '.join(users) or 'a request'}) is not a field of "
                       f"{self.property}: {fix}.{did_you_mean(name, known)}")
            problems.append(problem)
            for rid in requests:
                skipped[rid] = f"{skipped[rid]} {problem}" if rid in skipped else problem
        if problems and len(skipped) == len(self.api.requests):
            raise ApiLoadError("GA4 would reject every request; nothing was loaded:\n  " + "\n  ".join(problems))
        for rid in sorted(skipped):
            self.say(f"Skipped request {rid}: {skipped[rid]} The other requests load.")
        return skipped

    def _batch(self, chunk: list[tuple[str, int]]) -> BatchRunReportsResponse:
        requests = []
        for rid, offset in chunk:
            body = self.api.requests[rid].to_proto_json(self.property, self.date_range)
            request = RunReportRequest.from_json(json.dumps(body))
            if offset:
                request.offset = offset
            requests.append(request)
        self.calls += 1
        return self.conn.client.batch_run_reports(
            request=BatchRunReportsRequest(property=self.property, requests=requests),
            timeout=self.timeout, retry=None)

    def _call(self, call: Callable[[], T], what: str, request_ids: list[str]) -> T:
        remaining = {name: left for name, (_used, left) in self.quota.items()}
        try:
            return call_with_retry(call, what, self.policy, self.say, remaining=lambda: remaining)
        except (gexc.GoogleAPICallError, RetriesExhausted) as exc:
            ctx = CallContext(self.property, self.conn.account, what, self.timeout, self.conn.endpoint,
                              {r: self.fields[r] for r in request_ids},
                              {r: self.kpi_labels.get(r, ()) for r in request_ids}, remaining)
            raise ApiLoadError(explain(exc, ctx)) from exc

    def _note_quota(self, report: RunReportResponse) -> None:
        quota = report.property_quota
        for name in ("tokens_per_day", "tokens_per_hour", "concurrent_requests",
                     "server_errors_per_project_per_hour", "potentially_thresholded_requests_per_hour",
                     "tokens_per_project_per_hour"):
            status = getattr(quota, name, None)
            if status is not None and (status.consumed or status.remaining):
                self.quota[name] = (int(status.consumed), int(status.remaining))


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
