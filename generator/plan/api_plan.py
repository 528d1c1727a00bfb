"""The QueryPlan in the GA4 Data API's terms: which shared report requests compute which KPI.

KPIs share requests wherever GA4 allows: per breakdown, one *population* request (sessions, users,
new users, engaged sessions) and one *events* request with `eventName` as a dimension and an in-list
filter on every event the KPIs read (so `sessions` on the `purchase` row = sessions with a purchase).
Measures with their own filters get a request of their own. A KPI the API cannot compute faithfully
(a conversion within a window, a numeric comparison on a custom param) is marked with the reason and
left to the export: never a silently different number.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from ..ga4.dimensions import DIMENSIONS
from ..ga4.limits import API_METRICS_MAX, API_REPORTS_PER_BATCH, API_ROWS_PER_PAGE_MAX
from ..spec.plain_words import window_text
from .queries import (
    ConversionQuery,
    DerivedQuery,
    KpiQuery,
    PlanBreakdown,
    PlanFilter,
    PlanMeasure,
    QueryPlan,
    RatioQuery,
)

PROPERTY_PLACEHOLDER = "properties/0"
DEFAULT_DATE_RANGE = {"startDate": "28daysAgo", "endDate": "yesterday"}
TOTAL = ""

_POPULATION_METRICS = {"sessions": "sessions", "users": "totalUsers", "new_users": "newUsers",
                       "engaged_sessions": "engagedSessions"}


class NotExpressible(Exception):
    """The Data API cannot compute this faithfully; the message says why, in plain words."""


@dataclass(frozen=True)
class Slot:
    """Where one number comes from: a request, a metric, and (for events requests) the eventName row."""

    request_id: str
    metric: str
    event_name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"request": self.request_id, "metric": self.metric, "eventName": self.event_name}


@dataclass
class ApiRequest:
    """One RunReportRequest (without property and date range, which the loader sets)."""

    dimensions: tuple[str, ...]
    dimension_filter: dict[str, Any] | None
    metrics: list[str] = field(default_factory=list)

    @property
    def request_id(self) -> str:
        key = json.dumps([self.dimensions, self.dimension_filter, sorted(self.metrics)], sort_keys=True)
        return "r_" + hashlib.sha256(key.encode()).hexdigest()[:10]

    def to_proto_json(self, property_: str = PROPERTY_PLACEHOLDER,
                      date_range: dict[str, str] | None = None) -> dict[str, Any]:
        """Proto JSON that `RunReportRequest` accepts as it is."""
        body: dict[str, Any] = {
            "property": property_,
            "dimensions": [{"name": d} for d in self.dimensions],
            "metrics": [{"name": m} for m in sorted(self.metrics)],
            "dateRanges": [dict(date_range or DEFAULT_DATE_RANGE)],
            "limit": str(API_ROWS_PER_PAGE_MAX),
            "returnPropertyQuota": True,
        }
        if self.dimension_filter is not None:
            body["dimensionFilter"] = self.dimension_filter
        return body


@dataclass(frozen=True)
class ApiKpi:
    """How one KPI is computed from report rows, per breakdown ('' = total)."""

    kpi_id: str
    reason: str | None = None
    numerator: dict[str, Slot] = field(default_factory=dict)
    denominator: dict[str, Slot] = field(default_factory=dict)
    components: tuple[str, ...] = ()

    @property
    def expressible(self) -> bool:
        return self.reason is None

    def request_ids(self) -> list[str]:
        ids = [s.request_id for s in (*self.numerator.values(), *self.denominator.values())]
        return sorted(set(ids))


@dataclass
class ApiPlan:
    requests: dict[str, ApiRequest] = field(default_factory=dict)
    kpis: dict[str, ApiKpi] = field(default_factory=dict)

    def batches(self) -> list[list[ApiRequest]]:
        """Requests in BatchRunReports groups of at most 5, in a stable order."""
        ordered = [self.requests[k] for k in sorted(self.requests)]
        return [ordered[i:i + API_REPORTS_PER_BATCH] for i in range(0, len(ordered), API_REPORTS_PER_BATCH)]


def compile_api_plan(plan: QueryPlan) -> ApiPlan:
    """Map every KPI of the plan onto shared report requests (or say why it cannot be)."""
    builder = _Builder()
    for query in plan.ordered():
        saved = copy.deepcopy((builder.groups, builder.events_by_breakdown))
        try:
            builder.kpi(query)
        except NotExpressible as exc:
            builder.groups, builder.events_by_breakdown = saved  # nothing half-added
            builder.out.kpis[query.kpi_id] = ApiKpi(query.kpi_id, reason=str(exc))
    return builder.finish()


class _Builder:
    def __init__(self) -> None:
        self.out = ApiPlan()
        # (dimensions, filter json) -> metrics
        self.groups: dict[tuple[tuple[str, ...], str], set[str]] = {}
        self.events_by_breakdown: dict[str, set[str]] = {}

    def kpi(self, query: KpiQuery) -> None:
        if isinstance(query, ConversionQuery):
            conv = query.conversion
            raise NotExpressible(
                f"the Data API has no measure for '{conv.per}s who did `{conv.to.event}` within "
                f"{window_text(conv.window_seconds)} after `{conv.from_.event}`' (funnel reports are approximate), "
                "so this KPI is computed from the BigQuery export only")
        if isinstance(query, DerivedQuery):
            blocked = [c for c in query.components if not self.out.kpis.get(c, ApiKpi(c, "missing")).expressible]
            if blocked:
                raise NotExpressible(f"it is computed from {', '.join(f'`{c}`' for c in blocked)}, which the "
                                     "Data API cannot compute, so it comes from the BigQuery export only")
            self.out.kpis[query.kpi_id] = ApiKpi(query.kpi_id, components=query.components)
            return
        if isinstance(query, RatioQuery):
            parts = [("numerator", query.numerator), ("denominator", query.denominator)]
        else:
            m = query.measure
            parts = [("numerator", m)] if m.kind != "average" else [
                ("numerator", PlanMeasure("sum", m.event, m.param, m.param_type, m.filters)),
                ("denominator", PlanMeasure("count", m.event, filters=m.filters))]
        breakdowns: list[PlanBreakdown | None] = [None, *query.breakdowns]
        slots: dict[str, dict[str, Slot]] = {"numerator": {}, "denominator": {}}
        for role, measure in parts:
            if measure.first_ever:
                raise NotExpressible(
                    f"the Data API cannot count each user's first `{measure.event}` event ever (GA4's own "
                    "`firstTimePurchasers` follows GA4's user history, not the export's), so this KPI is computed "
                    "from the BigQuery export only")
            for bd in breakdowns:
                slots[role][bd.name if bd else TOTAL] = self._slot(measure, bd)
        self.out.kpis[query.kpi_id] = ApiKpi(query.kpi_id, numerator=slots["numerator"],
                                             denominator=slots["denominator"])

    def _slot(self, m: PlanMeasure, bd: PlanBreakdown | None) -> Slot:
        dims: tuple[str, ...] = ("date",) + ((bd.api_name,) if bd else ())
        if m.kind in _POPULATION_METRICS:
            flt = _and([_api_filter(f) for f in m.filters])
            return self._add(dims, flt, _POPULATION_METRICS[m.kind], None)
        assert m.event is not None
        metric = _event_metric(m)
        if m.filters:
            flt = _and([_string_filter("eventName", "EXACT", m.event), *(_api_filter(f) for f in m.filters)])
            return self._add(dims, flt, metric, None)
        key = bd.name if bd else TOTAL
        self.events_by_breakdown.setdefault(key, set()).add(m.event)
        events_dims = ("date", "eventName") + ((bd.api_name,) if bd else ())
        # the eventName in-list filter is filled in finish(), once every event is known
        placeholder = f"__events__{key}"
        return self._add(events_dims, {"__events__": placeholder}, metric, m.event)

    def _add(self, dims: tuple[str, ...], flt: dict[str, Any] | None, metric: str, event: str | None) -> Slot:
        fkey = json.dumps(flt, sort_keys=True)
        self.groups.setdefault((dims, fkey), set()).add(metric)
        marker = f"{dims}|{fkey}"
        return Slot(marker, metric, event)

    def finish(self) -> ApiPlan:
        ids: dict[str, list[tuple[ApiRequest, set[str]]]] = {}
        for (dims, fkey), metrics in sorted(self.groups.items()):
            flt = json.loads(fkey)
            if isinstance(flt, dict) and "__events__" in flt:
                key = flt["__events__"].removeprefix("__events__")
                flt = {"filter": {"fieldName": "eventName",
                                  "inListFilter": {"values": sorted(self.events_by_breakdown[key])}}}
            marker = f"{dims}|{fkey}"
            chunks = _chunks(sorted(metrics), API_METRICS_MAX)
            ids[marker] = []
            for chunk in chunks:
                req = ApiRequest(dims, flt, list(chunk))
                self.out.requests[req.request_id] = req
                ids[marker].append((req, set(chunk)))
        for kid, api in list(self.out.kpis.items()):
            if not api.expressible or api.components:
                continue
            self.out.kpis[kid] = ApiKpi(
                kid, numerator={b: _resolve(s, ids) for b, s in api.numerator.items()},
                denominator={b: _resolve(s, ids) for b, s in api.denominator.items()})
        return self.out


def _resolve(slot: Slot, ids: dict[str, list[tuple[ApiRequest, set[str]]]]) -> Slot:
    req = next(r for r, metrics in ids[slot.request_id] if slot.metric in metrics)
    return Slot(req.request_id, slot.metric, slot.event_name)


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i:i + size] for i in range(0, len(items), size)] or [[]]


def _event_metric(m: PlanMeasure) -> str:
    """The Data API metric for an event-based measure (purchases counted once per transaction)."""
    if m.kind == "count":
        return "transactions" if m.event == "purchase" else "eventCount"
    if m.kind == "users_with":
        return "totalUsers"
    if m.kind == "sessions_with":
        return "sessions"
    if m.kind == "sum":
        if m.param == "value":
            return "grossPurchaseRevenue" if m.event == "purchase" else "eventValue"
        return f"customEvent:{m.param}"
    raise NotExpressible(f"the measure kind `{m.kind}` has no Data API metric")


def _and(filters: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not filters:
        return None
    if len(filters) == 1:
        return filters[0]
    return {"andGroup": {"expressions": filters}}


def _string_filter(field_name: str, match: str, value: str) -> dict[str, Any]:
    return {"filter": {"fieldName": field_name, "stringFilter": {"matchType": match, "value": value,
                                                                  "caseSensitive": True}}}


def _api_filter(f: PlanFilter) -> dict[str, Any]:
    """A PlanFilter as a Data API FilterExpression on a dimension (custom params: `customEvent:`)."""
    if f.subject == "param":
        field_name = f"customEvent:{f.name}"
    else:
        field_name = DIMENSIONS[f.name].api_name
    if f.operator == "is_set":
        return _is_set_filter(field_name, bool(f.value))
    if f.value_type in ("number", "boolean") or f.operator in ("gt", "gte", "lt", "lte"):
        raise NotExpressible(
            f"it compares `{f.name}` as a {'number' if f.value_type != 'boolean' else 'yes/no value'}, but the "
            "Data API reports custom params as text dimensions, so the comparison would not be exact")
    values = f.value if isinstance(f.value, tuple) else (f.value,)
    text = [str(v) for v in values]
    if f.operator in ("equals", "not_equals"):
        expr = _string_filter(field_name, "EXACT", text[0])
    elif f.operator in ("in", "not_in"):
        expr = {"filter": {"fieldName": field_name, "inListFilter": {"values": text, "caseSensitive": True}}}
    elif f.operator == "contains":
        expr = _string_filter(field_name, "CONTAINS", text[0])
    elif f.operator == "starts_with":
        expr = _string_filter(field_name, "BEGINS_WITH", text[0])
    else:  # pragma: no cover - every operator is listed above
        raise NotExpressible(f"the operator `{f.operator}` has no Data API filter")
    if f.operator.startswith("not_"):
        return {"notExpression": expr}
    return expr


def _is_set_filter(field_name: str, wanted: bool) -> dict[str, Any]:
    """`is_set`: the Data API reports a missing (or empty) value as `(not set)`; an empty string is matched too."""
    missing = {"orGroup": {"expressions": [_string_filter(field_name, "EXACT", "(not set)"),
                                           _string_filter(field_name, "EXACT", "")]}}
    return {"notExpression": missing} if wanted else missing


def api_plan_to_dict(api: ApiPlan, property_: str = PROPERTY_PLACEHOLDER) -> dict[str, Any]:
    """The manifest `kpi load ga4-api` runs: batches of requests and, per KPI, where its numbers are."""
    return {
        "property": property_,
        "batches": [{"property": property_, "requests": [r.to_proto_json(property_) for r in batch]}
                    for batch in api.batches()],
        "requestIds": [[r.request_id for r in batch] for batch in api.batches()],
        "kpis": {kid: _kpi_dict(k) for kid, k in sorted(api.kpis.items())},
    }


def _kpi_dict(k: ApiKpi) -> dict[str, Any]:
    out: dict[str, Any] = {"expressible": k.expressible}
    if k.reason:
        out["reason"] = k.reason
    if k.components:
        out["components"] = list(k.components)
    if k.numerator:
        out["numerator"] = {b: s.to_dict() for b, s in sorted(k.numerator.items())}
    if k.denominator:
        out["denominator"] = {b: s.to_dict() for b, s in sorted(k.denominator.items())}
    return out
