"""Where a KPI file writes a value that must occur in the data: its filters' values and its breakdowns.

`value_uses` walks every active KPI's conditions (on events and on users / sessions) and breakdowns and says,
for each value, which dimension or event param it is compared with (`Subject`) and where it is written.
`subjects` is what the warehouse gathers the distinct values of (one query per subject); the checks are in
`vocabulary.py` (GA4's fixed spellings, no data) and `data_values.py` (against the loaded data).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from ..ga4.dimensions import DIMENSIONS
from ..issues import SourceLocation
from ..models.filters import Condition
from ..parse.catalog import KpiCatalog, SourcedKpi
from ..parse.loading import KeyPath
from ..parse.measures import event_uses, events_of, population_parts

TEXT_OPERATORS = ("equals", "not_equals", "in", "not_in", "contains", "starts_with")
"""Operators whose values are text the data must contain (the numeric ones, `gt` …, compare amounts)."""


@dataclass(frozen=True, order=True)
class Subject:
    """A built-in dimension (`event` None), or an event's param: what a value is compared with."""

    kind: Literal["dimension", "param"]
    name: str
    event: str | None = None

    def describe(self) -> str:
        return f"`{self.event}.{self.name}`" if self.kind == "param" else f"the {self.name.replace('_', ' ')}"


@dataclass(frozen=True)
class ValueUse:
    """One value written in a KPI file (a filter's value), or a breakdown (`value` None)."""

    kpi_id: str
    subject: Subject
    operator: str  # equals … starts_with, or "breakdown"
    value: str | None
    location: SourceLocation

    @property
    def matches_part(self) -> bool:
        """`contains` / `starts_with`: the value is part of a value in the data, not a whole one."""
        return self.operator in ("contains", "starts_with")


def value_uses(catalog: KpiCatalog) -> Iterator[ValueUse]:
    """Every text value and breakdown of the active KPIs, each with the line it is written on."""
    for sk in catalog.active_kpis():
        yield from _filter_values(catalog, sk)
        yield from _breakdowns(sk)


def subjects(catalog: KpiCatalog) -> list[Subject]:
    """The dimensions and event params whose values in the data the active KPIs depend on (sorted, once each)."""
    return sorted({use.subject for use in value_uses(catalog)})


def _filter_values(catalog: KpiCatalog, sk: SourcedKpi) -> Iterator[ValueUse]:
    for use in event_uses(sk.kpi):
        for i, cond in enumerate(use.where):
            yield from _condition_values(catalog, sk, cond, (*use.where_path, i), use.event)
    for _kind, pop, path in population_parts(sk.kpi):
        for i, cond in enumerate(pop.where):
            yield from _condition_values(catalog, sk, cond, (*path, "where", i), None)


def _condition_values(catalog: KpiCatalog, sk: SourcedKpi, cond: Condition, path: KeyPath,
                      event: str | None) -> Iterator[ValueUse]:
    op = cond.operator
    if op not in TEXT_OPERATORS:
        return
    if cond.dimension is not None:
        if cond.dimension not in DIMENSIONS:
            return  # KB305 says so
        subject = Subject("dimension", cond.dimension)
    elif cond.param is not None and event is not None:
        spec = catalog.param(event, cond.param)
        if spec is not None and spec.type != "string":
            return  # a number or a flag: compared as an amount, not as text
        subject = Subject("param", cond.param, event)
    else:
        return
    key = "in" if op == "in" else op
    values = cond.value if isinstance(cond.value, list) else [cond.value]
    for j, value in enumerate(values):
        if not isinstance(value, str):
            continue  # `equals: 3` on an undeclared param compares numbers
        at = (*path, key, j) if isinstance(cond.value, list) else (*path, key)
        yield ValueUse(sk.kpi.kpi, subject, op, value, sk.locate(*at))


def _breakdowns(sk: SourcedKpi) -> Iterator[ValueUse]:
    events = events_of(sk.kpi)
    for i, b in enumerate(sk.kpi.breakdowns):
        if isinstance(b, str) and not b.startswith("param:"):
            if b in DIMENSIONS:
                    yield ValueUse(sk.kpi.kpi, Subject("dimension", b), "breakdown", None, sk.locate("breakdowns", i))
            continue
        param, at = (b.removeprefix("param:"), ("breakdowns", i)) if isinstance(b, str) else \
            (b.param, ("breakdowns", i, "param"))
        for event in events:
            yield ValueUse(sk.kpi.kpi, Subject("param", param, event), "breakdown", None, sk.locate(*at))
