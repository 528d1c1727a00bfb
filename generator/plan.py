"""The QueryPlan: every active KPI compiled into what to count, filter and break down.

It is the only input the query targets read (GA4 Data API requests, SQL for DuckDB and BigQuery),
so they cannot disagree about what a KPI means.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Literal

from .catalog import KpiCatalog
from .formula import Expr, parse_formula, ratio_parts, references
from .ga4.dimensions import DIMENSIONS
from .models.filters import Condition
from .models.kpi import Kpi
from .models.measure import Conversion, EventRef, ParamRef, Population, SimpleMeasure

PLAN_VERSION = 1  # bump when the meaning of a compiled measure changes: every KPI recomputes

MeasureKind = Literal["count", "users_with", "sessions_with", "users", "sessions", "new_users",
                      "engaged_sessions", "sum", "average"]
Aggregation = Literal["sum", "ratio", "mean"]


@dataclass(frozen=True)
class PlanFilter:
    """`param method equals email`, or `dimension country in [DE, AT]`; values typed as the param."""

    subject: Literal["param", "dimension"]
    name: str
    operator: str  # equals, not_equals, in, not_in, contains, starts_with, gt, gte, lt, lte, is_set
    value: str | int | float | bool | tuple[str | int | float | bool, ...]
    value_type: Literal["string", "integer", "number", "boolean"] = "string"


@dataclass(frozen=True)
class PlanMeasure:
    """One number per day (and breakdown value)."""

    kind: MeasureKind
    event: str | None = None
    param: str | None = None
    param_type: str | None = None
    filters: tuple[PlanFilter, ...] = ()
    first_ever: bool = False  # only each user's first matching event of all the export (`first_ever.py`)
    skip_without_transaction_id: bool = False  # `purchases_without_transaction_id: skip`

    @property
    def dedupe_transactions(self) -> bool:
        """GA4 counts a purchase once per transaction id (ga4.md §10)."""
        return self.event == "purchase"

    @property
    def unit(self) -> Literal["event", "session", "user"]:
        if self.kind in ("users_with", "users", "new_users"):
            return "user"
        if self.kind in ("sessions_with", "sessions", "engaged_sessions"):
            return "session"
        return "event"


@dataclass(frozen=True)
class PlanConversion:
    """Share of users (or sessions) with `from` who had `to` within the window; dated by `from`."""

    from_: PlanMeasure
    to: PlanMeasure
    window_seconds: int
    per: Literal["user", "session"]


@dataclass(frozen=True)
class PlanBreakdown:
    """A breakdown: a built-in dimension (`channel`) or an event param (`param:lead_source`)."""

    name: str
    label: str
    kind: Literal["dimension", "param"]
    api_name: str
    param_type: str | None = None

    @property
    def param(self) -> str | None:
        return self.name.removeprefix("param:") if self.kind == "param" else None


@dataclass(frozen=True)
class KpiQuery:
    """One KPI, compiled."""

    kpi_id: str
    kind: Literal["simple", "ratio", "conversion", "derived"]
    breakdowns: tuple[PlanBreakdown, ...]
    time_grain: str
    aggregation: Aggregation
    events: tuple[str, ...]
    definition_hash: str
    measure: PlanMeasure | None = None
    numerator: PlanMeasure | None = None
    denominator: PlanMeasure | None = None
    conversion: PlanConversion | None = None
    formula: Expr | None = None
    components: tuple[str, ...] = ()

    def measures(self) -> list[PlanMeasure]:
        """Every simple measure this KPI reads (none for derived)."""
        if self.measure is not None:
            return [self.measure]
        if self.numerator is not None and self.denominator is not None:
            return [self.numerator, self.denominator]
        if self.conversion is not None:
            return [self.conversion.from_, self.conversion.to]
        return []


@dataclass(frozen=True)
class QueryPlan:
    """Every active KPI, in dependency order (a derived KPI comes after the KPIs it uses)."""

    kpis: dict[str, KpiQuery] = field(default_factory=dict)

    def ordered(self) -> list[KpiQuery]:
        return list(self.kpis.values())


def compile_plan(catalog: KpiCatalog) -> QueryPlan:
    """Compile a validated catalog (no errors) into a QueryPlan of its active KPIs."""
    active = {sk.kpi.kpi: sk.kpi for sk in catalog.active_kpis()}
    compiled: dict[str, KpiQuery] = {}
    for kpi_id in _dependency_order(active):
        compiled[kpi_id] = _compile_kpi(active[kpi_id], catalog, compiled)
    return QueryPlan(compiled)


def _dependency_order(kpis: dict[str, Kpi]) -> list[str]:
    order: list[str] = []
    visiting: set[str] = set()

    def visit(kid: str) -> None:
        if kid in order or kid not in kpis:
            return
        if kid in visiting:
            raise ValueError(f"derived KPIs form a cycle through `{kid}` (run `kpi validate`)")
        visiting.add(kid)
        derived = kpis[kid].measure.derived
        if derived is not None:
            for ref in references(parse_formula(derived.formula)):
                visit(ref)
        visiting.discard(kid)
        order.append(kid)

    for kid in sorted(kpis):
        visit(kid)
    return order


def _compile_kpi(kpi: Kpi, catalog: KpiCatalog, compiled: dict[str, KpiQuery]) -> KpiQuery:
    m = kpi.measure
    breakdowns = tuple(_breakdown(b, kpi, catalog) for b in kpi.breakdown_names())
    common = {"kpi_id": kpi.kpi, "breakdowns": breakdowns, "time_grain": kpi.time_grain}
    if m.ratio is not None:
        num = _simple(m.ratio.numerator, catalog)
        den = _simple(m.ratio.denominator, catalog)
        parts: dict[str, object] = {"kind": "ratio", "numerator": num, "denominator": den, "aggregation": "ratio"}
        events = _events(num, den)
    elif m.conversion is not None:
        conv = _conversion(m.conversion, catalog)
        parts = {"kind": "conversion", "conversion": conv, "aggregation": "ratio"}
        events = _events(conv.from_, conv.to)
    elif m.derived is not None:
        expr = parse_formula(m.derived.formula)
        comps = tuple(references(expr))
        missing = [c for c in comps if c not in compiled]
        if missing:
            raise ValueError(f"`{kpi.kpi}` uses KPIs that are not active: {', '.join(missing)}")
        aggregation: Aggregation = "ratio" if ratio_parts(expr) else "mean"
        parts = {"kind": "derived", "formula": expr, "components": comps, "aggregation": aggregation}
        events = tuple(dict.fromkeys(e for c in comps for e in compiled[c].events))
        common["breakdowns"] = _shared_breakdowns(breakdowns, [compiled[c] for c in comps])
    else:
        measure = _simple(m, catalog)
        aggregation = "ratio" if measure.kind == "average" else "sum"
        parts = {"kind": "simple", "measure": measure, "aggregation": aggregation}
        events = _events(measure)
    if kpi.purchases_without_transaction_id == "skip":
        parts = _skipping_purchases_without_id(parts)
    component_hashes = [compiled[c].definition_hash for c in parts.get("components", ())]  # type: ignore[attr-defined]
    definition = {"plan": PLAN_VERSION, "measure": _canonical(m), "breakdowns": [b.name for b in breakdowns],
                  "components": component_hashes}
    if kpi.purchases_without_transaction_id != "count":  # only then: the other KPIs keep their hashes
        definition["purchases_without_transaction_id"] = kpi.purchases_without_transaction_id
    digest = hashlib.sha256(json.dumps(definition, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return KpiQuery(events=events, definition_hash=digest, **common, **parts)  # type: ignore[arg-type]


def _skipping_purchases_without_id(parts: dict[str, object]) -> dict[str, object]:
    """The KPI's measures of `purchase` marked to leave out purchases without a transaction id."""
    def mark(m: object) -> object:
        if isinstance(m, PlanMeasure) and m.dedupe_transactions:
            return replace(m, skip_without_transaction_id=True)
        if isinstance(m, PlanConversion):
            return replace(m, from_=mark(m.from_), to=mark(m.to))  # type: ignore[arg-type]
        return m

    return {key: mark(value) for key, value in parts.items()}


def _shared_breakdowns(own: tuple[PlanBreakdown, ...], comps: list[KpiQuery]) -> tuple[PlanBreakdown, ...]:
    """A derived KPI can break down only by what all its components break down by."""
    if not own:
        return ()
    names = set.intersection(*({b.name for b in c.breakdowns} for c in comps)) if comps else set()
    return tuple(b for b in own if b.name in names)


def _events(*measures: PlanMeasure) -> tuple[str, ...]:
    return tuple(dict.fromkeys(m.event for m in measures if m.event is not None))


def _canonical(model: object) -> object:
    dump = model.model_dump(mode="json", by_alias=True, exclude_defaults=True)  # type: ignore[attr-defined]
    return dump


def _breakdown(name: str, kpi: Kpi, catalog: KpiCatalog) -> PlanBreakdown:
    if name.startswith("param:"):
        param = name.removeprefix("param:")
        ptype = None
        for event in (e for e in _kpi_events(kpi)):
            spec = catalog.param(event, param)
            if spec is not None:
                ptype = spec.type
                break
        return PlanBreakdown(name, param.replace("_", " ").capitalize(), "param", f"customEvent:{param}", ptype)
    dim = DIMENSIONS[name]
    return PlanBreakdown(name, dim.label, "dimension", dim.api_name)


def _kpi_events(kpi: Kpi) -> list[str]:
    from .measures import events_of

    return events_of(kpi)


def _simple(measure: SimpleMeasure, catalog: KpiCatalog) -> PlanMeasure:
    kind = measure.kind
    spec = measure.spec
    if isinstance(spec, Population):
        return PlanMeasure(kind, filters=tuple(_filter(c, None, catalog) for c in spec.where))  # type: ignore[arg-type]
    if isinstance(spec, ParamRef):
        pspec = catalog.param(spec.event, spec.param)
        return PlanMeasure(kind, spec.event, spec.param, pspec.type if pspec else None,  # type: ignore[arg-type]
                           tuple(_filter(c, spec.event, catalog) for c in spec.where))
    assert isinstance(spec, EventRef)
    return _event_measure(kind, spec, catalog)


def _event_measure(kind: str, ref: EventRef, catalog: KpiCatalog) -> PlanMeasure:
    return PlanMeasure(kind, ref.event, filters=tuple(_filter(c, ref.event, catalog) for c in ref.where),  # type: ignore[arg-type]
                       first_ever=ref.first_ever)


def _conversion(conv: Conversion, catalog: KpiCatalog) -> PlanConversion:
    kind = "users_with" if conv.per == "user" else "sessions_with"
    return PlanConversion(_event_measure(kind, conv.from_, catalog), _event_measure(kind, conv.to, catalog),
                          conv.window_seconds, conv.per)


def _filter(cond: Condition, event: str | None, catalog: KpiCatalog) -> PlanFilter:
    subject, name = cond.subject
    value = cond.value
    if isinstance(value, list):
        value = tuple(value)
    vtype: str = "string"
    if cond.operator == "is_set":
        pass  # whether there is a value at all, whatever its type: `sql/filters.py`
    elif subject == "param" and event is not None:
        spec = catalog.param(event, name)
        if spec is not None and spec.type in ("integer", "number", "boolean"):
            vtype = spec.type
    elif isinstance(value, bool):
        vtype = "boolean"
    elif isinstance(value, int | float):
        vtype = "number"
    return PlanFilter(subject, name, cond.operator, value, vtype)  # type: ignore[arg-type]
