"""What the events catalog itself declares (as opposed to GA4's built-in definitions), with locations."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..issues import SourceLocation
from ..models.event import ParamSpec, UserPropertySpec
from ..parse.catalog import KpiCatalog, SourcedEvent, iter_param_paths
from ..parse.loading import Document, KeyPath
from ..parse.measures import events_of


@dataclass(frozen=True)
class DeclaredParam:
    """A param as written in the events catalog, with its merged spec and key path."""

    event: SourcedEvent
    name: str
    spec: ParamSpec
    path: KeyPath

    def locate(self, *more: str | int) -> SourceLocation:
        assert self.event.doc is not None
        return self.event.doc.locate((*self.path, *more))


@dataclass(frozen=True)
class DeclaredUserProperty:
    name: str
    spec: UserPropertySpec
    doc: Document

    def locate(self, *more: str | int) -> SourceLocation:
        return self.doc.locate(("user_properties", self.name, *more))


def declared_events(catalog: KpiCatalog) -> list[SourcedEvent]:
    """Events written in an events catalog (built-in ones only if the catalog redeclares them)."""
    return [e for e in catalog.events.values() if e.doc is not None]


def declared_params(catalog: KpiCatalog) -> Iterator[DeclaredParam]:
    for sourced, name, spec, path in iter_param_paths(catalog):
        yield DeclaredParam(sourced, name, spec, path)


def declared_user_properties(catalog: KpiCatalog) -> Iterator[DeclaredUserProperty]:
    for doc in catalog.events_docs:
        props = doc.data.get("user_properties")
        if not isinstance(props, dict):
            continue
        for name in props:
            spec = catalog.user_properties.get(name)
            if spec is not None:
                yield DeclaredUserProperty(name, spec, doc)


def used_events(catalog: KpiCatalog, active_only: bool = True) -> dict[str, list[str]]:
    """Event name → the ids of the KPIs that read it."""
    out: dict[str, list[str]] = {}
    kpis = catalog.active_kpis() if active_only else list(catalog.kpis.values())
    for sk in kpis:
        for event in events_of(sk.kpi):
            out.setdefault(event, []).append(sk.kpi.kpi)
    return out


def kpi_list(ids: list[str], limit: int = 3) -> str:
    """`a`, `b` and 2 more."""
    shown = ", ".join(f"`{i}`" for i in ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")
