"""The QueryPlan: every active KPI compiled into what to count, filter and break down.

It is the only input the query targets read (GA4 Data API requests, SQL for DuckDB and BigQuery),
so they cannot disagree about what a KPI means.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import ClassVar, Literal, get_args

from pydantic import BaseModel

from ..ga4.dimensions import DIMENSIONS, PARAM_BREAKDOWN_PREFIX
from ..models.filters import Condition, Scalar
from ..models.kpi import Kpi, ParamBreakdown
from ..models.measure import Conversion, EventRef, ParamRef, Population, SimpleMeasure
from ..parse.catalog import KpiCatalog
from .formula import Expr, parse_formula, ratio_parts, references

PLAN_VERSION = 1  # bump when the meaning of a compiled measure changes: every KPI recomputes

MeasureKind = Literal["count", "users_with", "sessions_with", "users", "sessions", "new_users",
                      "engaged_sessions", "sum", "average"]
Aggregation = Literal["sum", "ratio", "mean"]
FilterValue = Scalar
ValueType = Literal["string", "integer", "number", "boolean"]


@dataclass(frozen=True)
class PlanFilter:
    """`param method equals email`, or `dimension country in [DE, AT]`; values typed as the param."""

    subject: Literal["param", "dimension"]
    name: str
    operator: str  # equals, not_equals, in, not_in, contains, starts_with, gt, gte, lt, lte, is_set
    value: FilterValue | tuple[FilterValue, ...]
    value_type: ValueType = "string"


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
class DimensionBreakdown:
    """A breakdown by a built-in dimension: `channel`."""

    dimension: str
    kind: ClassVar[Literal["dimension"]] = "dimension"

    def __post_init__(self) -> None:
        if self.dimension not in DIMENSIONS:
            raise ValueError(f"`{self.dimension}` is not a dimension KPI Bridge knows (run `kpi validate`)")

    @property
    def name(self) -> str:
        """Its key in the results, the serving file and `--breakdown`: the dimension's name."""
        return self.dimension

    @property
    def label(self) -> str:
        return DIMENSIONS[self.dimension].label

    @property
    def api_name(self) -> str:
        return DIMENSIONS[self.dimension].api_name


@dataclass(frozen=True)
class EventParamBreakdown:
    """A breakdown by one of the event's own params: `{param: lead_source}` (a GA4 custom dimension)."""

    param: str
    param_type: str | None = None  # as the events catalog declares it (None: undeclared)
    kind: ClassVar[Literal["param"]] = "param"

    @property
    def name(self) -> str:
        """Its key in the results, the serving file and `--breakdown`: `param:lead_source`."""
        return f"{PARAM_BREAKDOWN_PREFIX}{self.param}"

    @property
    def label(self) -> str:
        return self.param.replace("_", " ").capitalize()

    @property
    def api_name(self) -> str:
        return f"customEvent:{self.param}"


PlanBreakdown = DimensionBreakdown | EventParamBreakdown


@dataclass(frozen=True, kw_only=True)
class _Query:
    """What every compiled KPI has, whatever it measures."""

    kpi_id: str
    definition_hash: str  # changes whenever the numbers would: the warehouse recomputes the KPI
    breakdowns: tuple[PlanBreakdown, ...] = ()
    time_grain: str = "day"


@dataclass(frozen=True, kw_only=True)
class _FromEvents(_Query):
    """A KPI counted from events (every kind but derived)."""

    def measures(self) -> list[PlanMeasure]:
        """Every simple measure this KPI reads."""
        raise NotImplementedError

    @property
    def events(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m.event for m in self.measures() if m.event is not None))

    @property
    def components(self) -> tuple[str, ...]:
        """The KPIs it is computed from: none."""
        return ()


@dataclass(frozen=True, kw_only=True)
class SimpleQuery(_FromEvents):
    """A count, a distinct count, a sum or an average (an average is a ratio: sum / count)."""

    measure: PlanMeasure
    kind: ClassVar[Literal["simple"]] = "simple"

    def measures(self) -> list[PlanMeasure]:
        return [self.measure]

    @property
    def aggregation(self) -> Aggregation:
        return "ratio" if self.measure.kind == "average" else "sum"


@dataclass(frozen=True, kw_only=True)
class RatioQuery(_FromEvents):
    """One measure divided by another."""

    numerator: PlanMeasure
    denominator: PlanMeasure
    kind: ClassVar[Literal["ratio"]] = "ratio"
    aggregation: ClassVar[Aggregation] = "ratio"

    def measures(self) -> list[PlanMeasure]:
        return [self.numerator, self.denominator]


@dataclass(frozen=True, kw_only=True)
class ConversionQuery(_FromEvents):
    """The share of users (or sessions) with one event who had another within a window."""

    conversion: PlanConversion
    kind: ClassVar[Literal["conversion"]] = "conversion"
    aggregation: ClassVar[Aggregation] = "ratio"

    def measures(self) -> list[PlanMeasure]:
        return [self.conversion.from_, self.conversion.to]


@dataclass(frozen=True, kw_only=True)
class DerivedQuery(_Query):
    """A formula over other KPIs (`components`), which come before it in the plan."""

    formula: Expr
    components: tuple[str, ...]
    events: tuple[str, ...]  # its components' events
    aggregation: Aggregation
    kind: ClassVar[Literal["derived"]] = "derived"

    def measures(self) -> list[PlanMeasure]:
        """None: it reads its components' values, not events."""
        return []


EventQuery = SimpleQuery | RatioQuery | ConversionQuery
"""A KPI counted from events: every kind but derived."""
KpiQuery = SimpleQuery | RatioQuery | ConversionQuery | DerivedQuery
"""One KPI, compiled: one class per kind of measure."""


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
    breakdowns = tuple(_breakdown(b, kpi, catalog) for b in kpi.breakdowns)
    if m.derived is not None:
        return _derived(kpi, m.derived.formula, breakdowns, compiled)
    skip = kpi.purchases_without_transaction_id == "skip"

    def simple(measure: SimpleMeasure) -> PlanMeasure:
        return _skipping_purchases_without_id(_simple(measure, catalog), skip)

    digest = _definition_hash(kpi, breakdowns, [])
    if m.ratio is not None:
        return RatioQuery(kpi_id=kpi.kpi, definition_hash=digest, breakdowns=breakdowns, time_grain=kpi.time_grain,
                          numerator=simple(m.ratio.numerator), denominator=simple(m.ratio.denominator))
    if m.conversion is not None:
        conv = _conversion(m.conversion, catalog)
        conv = replace(conv, from_=_skipping_purchases_without_id(conv.from_, skip),
                       to=_skipping_purchases_without_id(conv.to, skip))
        return ConversionQuery(kpi_id=kpi.kpi, definition_hash=digest, breakdowns=breakdowns,
                               time_grain=kpi.time_grain, conversion=conv)
    return SimpleQuery(kpi_id=kpi.kpi, definition_hash=digest, breakdowns=breakdowns, time_grain=kpi.time_grain,
                       measure=simple(m))


def _derived(kpi: Kpi, formula: str, breakdowns: tuple[PlanBreakdown, ...],
             compiled: dict[str, KpiQuery]) -> DerivedQuery:
    expr = parse_formula(formula)
    comps = tuple(references(expr))
    missing = [c for c in comps if c not in compiled]
    if missing:
        raise ValueError(f"`{kpi.kpi}` uses KPIs that are not active: {', '.join(missing)}")
    aggregation: Aggregation = "ratio" if ratio_parts(expr) else "mean"
    return DerivedQuery(
        kpi_id=kpi.kpi, time_grain=kpi.time_grain,
        definition_hash=_definition_hash(kpi, breakdowns, [compiled[c].definition_hash for c in comps]),
        breakdowns=_shared_breakdowns(breakdowns, [compiled[c] for c in comps]),
        formula=expr, components=comps, aggregation=aggregation,
        events=tuple(dict.fromkeys(e for c in comps for e in compiled[c].events)))


def _definition_hash(kpi: Kpi, breakdowns: tuple[PlanBreakdown, ...], component_hashes: list[str]) -> str:
    """What the KPI's numbers depend on, hashed: its measure, its own breakdowns and its components' hashes."""
    definition = {"plan": PLAN_VERSION, "measure": _canonical(kpi.measure), "breakdowns": [b.name for b in breakdowns],
                  "components": component_hashes}
    if kpi.purchases_without_transaction_id != "count":  # only then: the other KPIs keep their hashes
        definition["purchases_without_transaction_id"] = kpi.purchases_without_transaction_id
    return hashlib.sha256(json.dumps(definition, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _skipping_purchases_without_id(m: PlanMeasure, skip: bool) -> PlanMeasure:
    """With `skip`, a measure of `purchase` marked to leave out purchases without a transaction id."""
    return replace(m, skip_without_transaction_id=True) if skip and m.dedupe_transactions else m


def _shared_breakdowns(own: tuple[PlanBreakdown, ...], comps: list[KpiQuery]) -> tuple[PlanBreakdown, ...]:
    """A derived KPI can break down only by what all its components break down by."""
    if not own:
        return ()
    names = set.intersection(*({b.name for b in c.breakdowns} for c in comps)) if comps else set()
    return tuple(b for b in own if b.name in names)


def _canonical(model: BaseModel) -> object:
    return model.model_dump(mode="json", by_alias=True, exclude_defaults=True)


def _breakdown(b: str | ParamBreakdown, kpi: Kpi, catalog: KpiCatalog) -> PlanBreakdown:
    if isinstance(b, str) and b.startswith(PARAM_BREAKDOWN_PREFIX):  # `"param:x"` written as text: `{param: x}`
        b = ParamBreakdown(param=b.removeprefix(PARAM_BREAKDOWN_PREFIX))
    if isinstance(b, str):
        return DimensionBreakdown(b)
    ptype = None
    for event in _kpi_events(kpi):
        spec = catalog.param(event, b.param)
        if spec is not None:
            ptype = spec.type
            break
    return EventParamBreakdown(b.param, ptype)


def _kpi_events(kpi: Kpi) -> list[str]:
    from ..parse.measures import events_of

    return events_of(kpi)


def _simple(measure: SimpleMeasure, catalog: KpiCatalog) -> PlanMeasure:
    kind = _measure_kind(measure.kind)
    spec = measure.spec
    if isinstance(spec, Population):
        return PlanMeasure(kind, filters=tuple(_filter(c, None, catalog) for c in spec.where))
    if isinstance(spec, ParamRef):
        pspec = catalog.param(spec.event, spec.param)
        return PlanMeasure(kind, spec.event, spec.param, pspec.type if pspec else None,
                           tuple(_filter(c, spec.event, catalog) for c in spec.where))
    assert isinstance(spec, EventRef)
    return _event_measure(kind, spec, catalog)


def _measure_kind(name: str) -> MeasureKind:
    for kind in get_args(MeasureKind):
        if kind == name:
            return kind
    raise ValueError(f"the measure kind `{name}` is not one the plan knows")


def _event_measure(kind: MeasureKind, ref: EventRef, catalog: KpiCatalog) -> PlanMeasure:
    return PlanMeasure(kind, ref.event, filters=tuple(_filter(c, ref.event, catalog) for c in ref.where),
                       first_ever=ref.first_ever)


def _conversion(conv: Conversion, catalog: KpiCatalog) -> PlanConversion:
    kind: MeasureKind = "users_with" if conv.per == "user" else "sessions_with"
    return PlanConversion(_event_measure(kind, conv.from_, catalog), _event_measure(kind, conv.to, catalog),
                          conv.window_seconds, conv.per)


def _filter(cond: Condition, event: str | None, catalog: KpiCatalog) -> PlanFilter:
    subject, name = cond.subject
    value = _filter_value(cond.value)
    vtype: ValueType = "string"
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
    return PlanFilter(subject, name, cond.operator, value, vtype)


def _filter_value(value: object) -> FilterValue | tuple[FilterValue, ...]:
    return tuple(_scalar(v) for v in value) if isinstance(value, list) else _scalar(value)


def _scalar(value: object) -> FilterValue:
    if isinstance(value, str | int | float | bool):
        return value
    raise ValueError(f"a condition compares with `{value!r}`, which is no text, number or true/false")

