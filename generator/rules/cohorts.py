"""Cohorts that start at a user's first event ever (`first_ever: true`): what they can be narrowed by."""

from __future__ import annotations

from collections.abc import Iterator

from ..ga4.dimensions import DIMENSIONS
from ..issues import Issue
from ..models.kpi import Kpi
from ..models.measure import Conversion, EventRef
from ..parse.catalog import KpiCatalog
from ..parse.loading import KeyPath
from ..parse.measures import measure_parts
from .base import Rule


def first_ever_refs(kpi: Kpi) -> Iterator[tuple[EventRef, KeyPath]]:
    """Every event of the measure marked `first_ever: true`, with its key path."""
    for _kind, spec, path in measure_parts(kpi):
        refs: list[tuple[object, KeyPath]] = [(spec, path)]
        if isinstance(spec, Conversion):
            refs = [(spec.from_, (*path, "from")), (spec.to, (*path, "to"))]
        for ref, at in refs:
            if isinstance(ref, EventRef) and ref.first_ever:
                yield ref, at


class FirstEverSessionFilterRule(Rule):
    code = "KB313"
    title = "a first-ever event is narrowed by the event's own params and dimensions"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for sk in catalog.kpis.values():
            for ref, path in first_ever_refs(sk.kpi):
                for i, cond in enumerate(ref.where):
                    dim = DIMENSIONS.get(cond.dimension or "")
                    if dim is None or dim.scope != "session":
                        continue
                    yield self.issue(
                        f"`first_ever` looks for the user's first `{ref.event}` in all the data, where the "
                        f"session's `{dim.name}` is not worked out, so it cannot be narrowed by `{dim.name}`.",
                        sk.locate(*path, "where", i, "dimension"),
                        f"Break the KPI down by `{dim.name}` instead (`breakdowns: [{dim.name}]`: the session "
                        f"of each user's first `{ref.event}`), or drop `first_ever`.")
