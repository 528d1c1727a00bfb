"""The plan of `kpi apply`: what to create, what to archive, what is already there, and the quota after it.

Pure: wanted and existing definitions in, plan out. Matching is by kind, param (or event) name and scope;
display names and descriptions are GA4's to keep (a team may have renamed them in the UI).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from generator.ga4.limits import CUSTOM_METRICS_MAX, EVENT_SCOPED_DIMENSIONS_MAX, USER_SCOPED_DIMENSIONS_MAX
from generator.spec.model import KEY_EVENTS_MAX

from .wanted import Definition

ITEM_SCOPED_DIMENSIONS_MAX = 10  # standard property (ga4.md §2)

# (label, kind, scope, limit) of each quota the plan reports
QUOTAS = (
    ("event-scoped custom dimensions", "custom_dimension", "EVENT", EVENT_SCOPED_DIMENSIONS_MAX),
    ("user-scoped custom dimensions", "custom_dimension", "USER", USER_SCOPED_DIMENSIONS_MAX),
    ("item-scoped custom dimensions", "custom_dimension", "ITEM", ITEM_SCOPED_DIMENSIONS_MAX),
    ("custom metrics", "custom_metric", "EVENT", CUSTOM_METRICS_MAX),
    ("key events", "key_event", "EVENT", KEY_EVENTS_MAX),
)

CREATE, ARCHIVE, UNCHANGED, KEEP = "create", "archive", "unchanged", "keep"


@dataclass(frozen=True)
class Step:
    """One line of the plan. `keep`: not in the spec, left alone (archived only with --archive, if GA4 can)."""

    action: str  # create | archive | unchanged | keep
    definition: Definition
    note: str = ""

    @property
    def changes(self) -> bool:
        return self.action in (CREATE, ARCHIVE)


@dataclass(frozen=True)
class QuotaUse:
    label: str
    before: int
    after: int
    limit: int

    @property
    def over(self) -> bool:
        return self.after > self.limit

    @property
    def text(self) -> str:
        change = f"{self.before} → {self.after}" if self.before != self.after else f"{self.after}"
        return f"{change} / {self.limit} {self.label}"


@dataclass
class AdminPlan:
    property: str
    steps: list[Step] = field(default_factory=list)
    quotas: list[QuotaUse] = field(default_factory=list)

    def of(self, action: str) -> list[Step]:
        return [s for s in self.steps if s.action == action]

    # builtins.property: in this class body `property` names the field above (mypy reads it so)
    @builtins.property
    def changes(self) -> list[Step]:
        return [s for s in self.steps if s.changes]

    @builtins.property
    def over_quota(self) -> list[QuotaUse]:
        return [q for q in self.quotas if q.over]

    def as_json(self) -> dict[str, Any]:
        return {
            "property": self.property,
            "steps": [{"action": s.action, "kind": s.definition.kind, "name": s.definition.key,
                       "scope": s.definition.scope, "kpis": list(s.definition.kpis), "note": s.note}
                      for s in self.steps],
            "quota": [{"label": q.label, "before": q.before, "after": q.after, "limit": q.limit}
                      for q in self.quotas],
        }


def make_plan(prop: str, wanted: Iterable[Definition], existing: Iterable[Definition],
              archive: bool = False) -> AdminPlan:
    """Create what is wanted and missing; archive what is there and wanted by no KPI only with `archive`."""
    have = {d.identity: d for d in existing}
    want = {d.identity: d for d in wanted}
    plan = AdminPlan(prop)
    for ident, d in want.items():
        if ident in have:
            plan.steps.append(Step(UNCHANGED, d))
        else:
            plan.steps.append(Step(CREATE, d, _conflict(d, have.values())))
    for ident, d in have.items():
        if ident in want:
            continue
        if not d.deletable:
            plan.steps.append(Step(KEEP, d, "a GA4 default key event: GA4 does not allow removing it"))
        elif archive:
            plan.steps.append(Step(ARCHIVE, d, "needed by no KPI"))
        else:
            verb = "delete" if d.kind == "key_event" else "archive"
            plan.steps.append(Step(KEEP, d, f"needed by no KPI; --archive would {verb} it"))
    order = {CREATE: 0, ARCHIVE: 1, UNCHANGED: 2, KEEP: 3}
    plan.steps.sort(key=lambda s: (order[s.action], s.definition.kind, s.definition.key))
    plan.quotas = _quotas(have.values(), plan.steps)
    return plan


def _conflict(d: Definition, have: Iterable[Definition]) -> str:
    """A same-named definition of another kind or scope: GA4 may refuse the new one."""
    for h in have:
        if h.key == d.key and h.kind != "key_event" and d.kind != "key_event" and h.identity != d.identity:
            return f"the property already has `{d.key}` as a {h.label.rsplit(' `', 1)[0]}"
    return ""


def _quotas(have: Iterable[Definition], steps: list[Step]) -> list[QuotaUse]:
    have = list(have)
    out = []
    for label, kind, scope, limit in QUOTAS:
        def counts(d: Definition, kind: str = kind, scope: str = scope) -> bool:
            return d.kind == kind and d.scope == scope
        before = sum(1 for d in have if counts(d))
        created = sum(1 for s in steps if s.action == CREATE and counts(s.definition))
        archived = sum(1 for s in steps if s.action == ARCHIVE and counts(s.definition))
        if before or created:
            out.append(QuotaUse(label, before, before + created - archived, limit))
    return out
