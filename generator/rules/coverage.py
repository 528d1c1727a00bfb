"""Warnings about what the KPIs and the catalog leave unread, unusable or unexplained."""

from __future__ import annotations

from collections.abc import Iterator

from ..ga4.dimensions import DIMENSIONS, looks_high_cardinality
from ..issues import Issue, Level
from ..parse.catalog import KpiCatalog
from .base import Rule
from .declarations import declared_events, kpi_list, used_events

_FEW_VALUES = "`channel`, `device_category` or `country`"


class HighCardinalityBreakdownRule(Rule):
    code = "KB701"
    level = Level.WARNING
    title = "breakdowns have few distinct values"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for sk in catalog.kpis.values():
            for i, b in enumerate(sk.kpi.breakdowns):
                if isinstance(b, str):
                    dim = DIMENSIONS.get(b)
                    if dim is None or not dim.high_cardinality:
                        continue
                    name, at = b, sk.locate("breakdowns", i)
                else:
                    if not looks_high_cardinality(b.param):
                        continue
                    name, at = b.param, sk.locate("breakdowns", i, "param")
                yield self.issue(
                    f"`{name}` has a different value for almost every visit or order, so breaking down by it gives "
                    "thousands of tiny rows (GA4 lumps the rare ones into `(other)`).", at,
                    f"Break down by something with a handful of values, e.g. {_FEW_VALUES}; look up single "
                    "orders or pages in GA4's explorations instead.")


class UnusedEventRule(Rule):
    """Custom events only: GA4's built-in events also feed GA4's own reports (e.g. the purchase journey),
    so declaring one just to describe its trigger on this site is never wasted."""

    code = "KB702"
    level = Level.WARNING
    title = "custom events feed an active KPI"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        if catalog.unparsed_kpi_ids:
            return  # a KPI file with errors of its own may be the one that uses the event
        active = used_events(catalog)
        anywhere = used_events(catalog, active_only=False)
        for event in declared_events(catalog):
            if event.builtin or event.name in active:
                continue
            drafts = anywhere.get(event.name)
            why = (f"only draft, deprecated or retired KPIs ({kpi_list(drafts)}) use it" if drafts
                   else "no KPI uses it")
            yield self.issue(
                f"the event `{event.name}` is declared, but {why}: IT would implement tracking that nobody reads.",
                event.locate(),
                "Use it in a KPI, or remove it from the events catalog so IT need not implement it.")


class MissingTriggerRule(Rule):
    code = "KB703"
    level = Level.WARNING
    title = "events a KPI uses say when they fire"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        used = used_events(catalog, active_only=False)
        for event in declared_events(catalog):
            if event.name in used and not event.spec.trigger.strip():
                yield self.issue(
                    f"`{event.name}` feeds {kpi_list(used[event.name])} but has no `trigger:`, so IT cannot know "
                    "when to send it.", event.locate(),
                    "Add `trigger:` in words IT can implement: where and when it fires, and how often, e.g. "
                    "`When the quote form is submitted successfully (once per submission)`.")
