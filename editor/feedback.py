"""What a change means, in plain words: the KPI's definition, the events it needs (and which are new for
IT), the GA4 custom definitions against the quota, and what `kpi diff` will tell IT.

Everything comes from the generator's own stages (plan, plain words, spec, snapshot, diff) run on the
catalog as it is on disk and as it would be after saving.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from generator.parse.catalog import KpiCatalog
from generator.plan.queries import KpiQuery, QueryPlan, compile_plan
from generator.spec.diff import Change, diff_snapshots
from generator.spec.model import SpecModel, build_spec
from generator.spec.plain_words import describe_kpi
from generator.spec.snapshot import snapshot_of


@dataclass
class Meaning:
    plain_words: str = ""
    events: list[str] = field(default_factory=list)
    new_for_it: list[str] = field(default_factory=list)  # events and params IT does not implement yet
    custom_definitions_added: list[str] = field(default_factory=list)
    quotas: list[str] = field(default_factory=list)  # `event-scoped custom dimensions: 3 / 50 (+1)`
    note: str = ""  # why some of the above could not be worked out


@dataclass
class Comparison:
    """The catalog on disk and the catalog after saving, compiled once per change."""

    before: KpiCatalog
    after: KpiCatalog
    after_ok: bool  # no errors after saving: the plan can be compiled
    _spec_before: SpecModel | None = None
    _spec_after: SpecModel | None = None

    def spec_before(self) -> SpecModel:
        if self._spec_before is None:
            self._spec_before = build_spec(self.before)
        return self._spec_before

    def spec_after(self) -> SpecModel:
        if self._spec_after is None:
            self._spec_after = build_spec(self.after)
        return self._spec_after

    def plan_after(self) -> QueryPlan:
        return compile_plan(self.after)

    def changes(self) -> list[Change]:
        """What `kpi diff` will list, breaking changes for IT first."""
        diff = diff_snapshots(snapshot_of(self.before, self.spec_before()), snapshot_of(self.after, self.spec_after()))
        return diff.breaking + diff.other


def meaning_of(kpi_id: str, comparison: Comparison) -> Meaning:
    out = Meaning()
    if not comparison.after_ok:
        out.note = "Fix the errors shown first: the meaning is worked out from a KPI file without errors."
        return out
    sourced = comparison.after.kpis.get(kpi_id)
    if sourced is None:
        out.note = "Give the KPI an id first."
        return out
    query = compiled(kpi_id, comparison)
    if query is None:
        out.note = f"This KPI's status is `{sourced.kpi.status}`: only active KPIs are computed and sent to IT."
        return out
    out.plain_words = describe_kpi(query)
    out.events = list(query.events)
    before, after = comparison.spec_before(), comparison.spec_after()
    for name in query.events:
        old, new = before.event(name), after.event(name)
        if new is None or new.automatic:
            continue
        if old is None or not old.needs:
            out.new_for_it.append(f"event `{name}`")
            continue
        old_params = {p.name for p in old.params if p.needs}
        out.new_for_it += [f"param `{p.name}` of `{name}`" for p in new.params if p.needs and p.name not in old_params]
    defs_before = {(c.kind, c.parameter) for c in (*before.custom_dimensions, *before.custom_metrics)}
    out.custom_definitions_added = [
        f"custom {c.kind} `{c.parameter}`" for c in (*after.custom_dimensions, *after.custom_metrics)
        if (c.kind, c.parameter) not in defs_before]
    old_used = {q.key: q.used for q in before.quotas}
    for q in after.quotas:
        delta = q.used - old_used.get(q.key, 0)
        change = f" ({'+' if delta > 0 else ''}{delta})" if delta else ""
        out.quotas.append(f"{q.label}: {q.used} / {q.limit}{change}" + (" — over GA4's limit" if q.over else ""))
    return out


def compiled(kpi_id: str, comparison: Comparison) -> KpiQuery | None:
    try:
        return comparison.plan_after().kpis.get(kpi_id)
    except Exception:  # noqa: BLE001 - a plan that cannot compile is reported by validation already
        return None
