"""Walk a KPI's measure: which events, params and dimensions it uses, and where in the file."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..models.filters import Condition
from ..models.kpi import Kpi
from ..models.measure import Conversion, EventRef, ParamRef, Population, SimpleMeasure
from .loading import KeyPath


@dataclass(frozen=True)
class EventUse:
    """An event a measure reads, with the key path of its name in the KPI file."""

    event: str
    path: KeyPath
    where: tuple[Condition, ...]
    where_path: KeyPath


@dataclass(frozen=True)
class ParamUse:
    """A param a KPI reads: in a filter, as the number it adds up, or as a breakdown."""

    event: str
    param: str
    path: KeyPath
    role: str  # filter | sum | average | breakdown


def _simple_parts(measure: SimpleMeasure, base: KeyPath) -> Iterator[tuple[str, object, KeyPath]]:
    kind = measure.kind
    yield kind, measure.spec, (*base, kind)


def measure_parts(kpi: Kpi) -> Iterator[tuple[str, object, KeyPath]]:
    """(kind, spec, key path) for each simple part of the measure (both sides of a ratio)."""
    m = kpi.measure
    if m.ratio is not None:
        yield from _simple_parts(m.ratio.numerator, ("measure", "ratio", "numerator"))
        yield from _simple_parts(m.ratio.denominator, ("measure", "ratio", "denominator"))
    elif m.conversion is not None:
        yield "conversion", m.conversion, ("measure", "conversion")
    elif m.derived is not None:
        yield "derived", m.derived, ("measure", "derived")
    else:
        yield from _simple_parts(m, ("measure",))


def event_uses(kpi: Kpi) -> Iterator[EventUse]:
    """Every event the KPI's measure reads."""
    for _kind, spec, path in measure_parts(kpi):
        if isinstance(spec, EventRef):
            yield EventUse(spec.event, (*path, "event"), tuple(spec.where), (*path, "where"))
        elif isinstance(spec, ParamRef):
            yield EventUse(spec.event, (*path, "event"), tuple(spec.where), (*path, "where"))
        elif isinstance(spec, Conversion):
            yield EventUse(spec.from_.event, (*path, "from", "event"), tuple(spec.from_.where), (*path, "from", "where"))
            yield EventUse(spec.to.event, (*path, "to", "event"), tuple(spec.to.where), (*path, "to", "where"))


def population_parts(kpi: Kpi) -> Iterator[tuple[str, Population, KeyPath]]:
    """The users / sessions / new users / engaged sessions parts of the measure."""
    for kind, spec, path in measure_parts(kpi):
        if isinstance(spec, Population):
            yield kind, spec, path


def events_of(kpi: Kpi) -> list[str]:
    """The distinct events a KPI reads (derived KPIs read none directly)."""
    seen: list[str] = []
    for use in event_uses(kpi):
        if use.event not in seen:
            seen.append(use.event)
    return seen


def param_uses(kpi: Kpi) -> Iterator[ParamUse]:
    """Every event param the KPI reads, with its role."""
    for use in event_uses(kpi):
        for i, cond in enumerate(use.where):
            if cond.param is not None:
                yield ParamUse(use.event, cond.param, (*use.where_path, i, "param"), "filter")
    for kind, spec, path in measure_parts(kpi):
        if isinstance(spec, ParamRef):
            yield ParamUse(spec.event, spec.param, (*path, "param"), kind)
    events = events_of(kpi)
    for i, b in enumerate(kpi.breakdowns):
        if not isinstance(b, str):
            for event in events:
                yield ParamUse(event, b.param, ("breakdowns", i, "param"), "breakdown")


def dimension_uses(kpi: Kpi) -> Iterator[tuple[str, KeyPath]]:
    """Every built-in dimension the KPI names (breakdowns and dimension conditions)."""
    for i, b in enumerate(kpi.breakdowns):
        if isinstance(b, str):
            yield b, ("breakdowns", i)
    for use in event_uses(kpi):
        for i, cond in enumerate(use.where):
            if cond.dimension is not None:
                yield cond.dimension, (*use.where_path, i, "dimension")
    for _kind, pop, path in population_parts(kpi):
        for i, cond in enumerate(pop.where):
            if cond.dimension is not None:
                yield cond.dimension, (*path, "where", i, "dimension")
            elif cond.param is not None:
                yield f"param:{cond.param}", (*path, "where", i, "param")
