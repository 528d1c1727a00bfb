"""Names that must point at something: events, params, dimensions and other KPIs."""

from __future__ import annotations

from collections.abc import Iterator

from ..ga4.dimensions import DIMENSIONS
from ..issues import Issue, did_you_mean, one_of
from ..parse.catalog import KpiCatalog
from ..parse.measures import dimension_uses, event_uses, param_uses, population_parts
from ..plan.formula import FormulaError, parse_formula, references
from .base import Rule


class UnknownEventRule(Rule):
    code = "KB301"
    title = "events a KPI uses exist"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        if "*events*" in catalog.unparsed_kpi_ids:
            return  # the events catalog has errors of its own; names in it are unknown until fixed
        for sk in catalog.kpis.values():
            for use in event_uses(sk.kpi):
                if use.event not in catalog.events:
                    yield self.issue(
                        f"the event `{use.event}` is not in the events catalog or GA4's built-in events."
                        f"{did_you_mean(use.event, catalog.events)}",
                        sk.locate(*use.path),
                        f"Fix the name, or declare `{use.event}` under `events:` in kpis/events.yaml "
                        "with its trigger and params.")


class UnknownParamRule(Rule):
    code = "KB302"
    title = "params a KPI uses are declared on its event"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        if "*events*" in catalog.unparsed_kpi_ids:
            return  # the events catalog has errors of its own; names in it are unknown until fixed
        for sk in catalog.kpis.values():
            for use in param_uses(sk.kpi):
                event = catalog.events.get(use.event)
                if event is None or use.param in event.spec.params:
                    continue
                yield self.issue(
                    f"the event `{use.event}` has no param `{use.param}`."
                    f"{did_you_mean(use.param, event.spec.params)}",
                    sk.locate(*use.path),
                    f"Declare it under `events: {use.event}: params:` in kpis/events.yaml"
                    + (f" (known params: {one_of(sorted(event.spec.params))})." if event.spec.params else "."))


class NumericParamRule(Rule):
    code = "KB310"
    title = "sums and averages read numeric params"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for sk in catalog.kpis.values():
            for use in param_uses(sk.kpi):
                if use.role not in ("sum", "average"):
                    continue
                spec = catalog.param(use.event, use.param)
                if spec is not None and spec.type not in ("integer", "number"):
                    yield self.issue(
                        f"`{use.role}` needs a number, but `{use.event}.{use.param}` is of type `{spec.type}`.",
                        sk.locate(*use.path),
                        "Pick a numeric param (e.g. `value`), or use `count` to count events.")


class UnknownDimensionRule(Rule):
    code = "KB305"
    title = "breakdowns and dimension filters name known dimensions"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for sk in catalog.kpis.values():
            for name, path in dimension_uses(sk.kpi):
                if name.startswith("param:") or name in DIMENSIONS:
                    continue
                yield self.issue(
                    f"`{name}` is not a dimension KPI Bridge knows.{did_you_mean(name, DIMENSIONS)}",
                    sk.locate(*path),
                    f"Use one of {one_of(sorted(DIMENSIONS), 20)}, or `{{param: <name>}}` to break down "
                    "by one of the event's own params.")


class PopulationParamFilterRule(Rule):
    code = "KB311"
    title = "users and sessions are filtered by dimensions only"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for sk in catalog.kpis.values():
            for kind, pop, path in population_parts(sk.kpi):
                for i, cond in enumerate(pop.where):
                    if cond.param is not None:
                        yield self.issue(
                            f"`{kind}` counts visits, not events, so it cannot be filtered by the param "
                            f"`{cond.param}`.", sk.locate(*path, "where", i, "param"),
                            f"Use `{'sessions_with' if 'session' in kind else 'users_with'}: {{event: …, where: …}}` "
                            "to count the visits that had a matching event, or filter by a `dimension:`.")


class ParamBreakdownRule(Rule):
    code = "KB312"
    title = "param breakdowns apply to every part of the measure"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for sk in catalog.kpis.values():
            kpi = sk.kpi
            if all(isinstance(b, str) for b in kpi.breakdowns):
                continue
            bad_kind = next((k for k, _s, _p in population_parts(kpi)), None)
            if kpi.measure.derived is not None:
                bad_kind = "derived"
            if bad_kind is None:
                continue
            i, b = next((i, b) for i, b in enumerate(kpi.breakdowns) if not isinstance(b, str))
            yield self.issue(
                f"the breakdown by the param `{b.param}` cannot apply to `{bad_kind}`, which does not come "
                "from a single event.", sk.locate("breakdowns", i),
                "Break this KPI down by built-in dimensions only (e.g. `channel`), or make a separate KPI "
                "that counts the event and break that one down by the param.")


class FormulaRule(Rule):
    code = "KB306"
    title = "derived formulas are well formed and name existing KPIs"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for sk in catalog.kpis.values():
            derived = sk.kpi.measure.derived
            if derived is None:
                continue
            where = sk.locate("measure", "derived", "formula")
            try:
                expr = parse_formula(derived.formula)
            except FormulaError as exc:
                yield self.issue(f"the formula `{derived.formula}` is not valid: {exc}.", where,
                                 "Write KPI ids with `+ - * /` and parentheses, e.g. `revenue / new_users`.")
                continue
            for ref in references(expr):
                if ref in catalog.unparsed_kpi_ids:
                    continue  # that file's own errors are reported; "not a KPI id" would mislead
                if ref not in catalog.kpis:
                    yield Issue("KB303", self.level,
                                f"the formula uses `{ref}`, which is not a KPI id.{did_you_mean(ref, catalog.kpis)}",
                                where, "Use the `kpi:` id of another KPI file.")
                elif ref == sk.kpi.kpi:
                    yield Issue("KB307", self.level, "the formula uses the KPI itself.", where,
                                "A derived KPI is computed from other KPIs; remove the self-reference.")


class DerivedCycleRule(Rule):
    code = "KB307"
    title = "derived KPIs do not depend on themselves"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        graph: dict[str, list[str]] = {}
        for kid, sk in catalog.kpis.items():
            derived = sk.kpi.measure.derived
            if derived is None:
                continue
            try:
                graph[kid] = [r for r in references(parse_formula(derived.formula)) if r in catalog.kpis and r != kid]
            except FormulaError:
                continue
        reported: set[frozenset[str]] = set()
        for start in sorted(graph):
            cycle = _find_cycle(start, graph)
            if cycle and frozenset(cycle) not in reported:
                reported.add(frozenset(cycle))
                path = " → ".join([*cycle, cycle[0]])
                yield self.issue(f"derived KPIs depend on each other in a circle: {path}.",
                                 catalog.kpis[cycle[0]].locate("measure", "derived", "formula"),
                                 "Break the circle: one of these KPIs must be computed from events, not from the others.")


def _find_cycle(start: str, graph: dict[str, list[str]]) -> list[str] | None:
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    while stack:
        node, path = stack.pop()
        for nxt in graph.get(node, []):
            if nxt == start:
                return path
            if nxt not in path:
                stack.append((nxt, [*path, nxt]))
    return None


class KpiFileNameRule(Rule):
    code = "KB704"
    title = "a KPI's file is named after its id"
    from ..issues import Level as _Level

    level = _Level.WARNING

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for sk in catalog.kpis.values():
            stem = sk.doc.path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
            if stem != sk.kpi.kpi:
                yield self.issue(f"the file is called `{stem}` but the KPI id is `{sk.kpi.kpi}`.",
                                 sk.locate("kpi"), f"Rename the file to `{sk.kpi.kpi}.yaml` so people find it.")
