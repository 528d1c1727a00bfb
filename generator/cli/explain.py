"""`kpi explain`: one KPI in plain words, with the events it needs, its GA4 requests and its SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..compile import Compiled
from ..parse.measures import param_uses
from ..spec.plain_words import describe_kpi
from ..sql import DIALECTS, render_sql


@dataclass(frozen=True)
class EventNeed:
    event: str
    trigger: str
    params: tuple[str, ...]  # params this KPI reads
    required: tuple[str, ...]  # params the spec requires on the event


@dataclass(frozen=True)
class Explanation:
    kpi_id: str
    title: str
    plain_words: str
    owner: str
    team: str
    objective: str
    status: str
    target: str
    source_file: str
    events: tuple[EventNeed, ...]
    api_expressible: bool
    api_reason: str | None
    api_requests: list[dict[str, Any]] = field(default_factory=list)
    sql: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kpi": self.kpi_id, "title": self.title, "definition": self.plain_words, "owner": self.owner,
            "team": self.team, "objective": self.objective, "status": self.status, "target": self.target,
            "file": self.source_file,
            "events": [{"event": e.event, "trigger": e.trigger, "params": list(e.params),
                        "required": list(e.required)} for e in self.events],
            "ga4_api": {"expressible": self.api_expressible, "reason": self.api_reason,
                        "requests": self.api_requests},
            "sql": self.sql,
        }


def explain_kpi(compiled: Compiled, kpi_id: str) -> Explanation:
    """Everything about one active KPI; raises KeyError for an id that is not in the plan."""
    catalog, plan, api = compiled.catalog, compiled.plan, compiled.api_plan
    query = plan.kpis[kpi_id]
    sk = catalog.kpis[kpi_id]
    kpi = sk.kpi
    api_kpi = api.kpis[kpi_id]
    reads: dict[str, list[str]] = {}
    for use in param_uses(kpi):
        reads.setdefault(use.event, [])
        if use.param not in reads[use.event]:
            reads[use.event].append(use.param)
    events = []
    for name in query.events:
        spec = catalog.events[name].spec
        events.append(EventNeed(name, spec.trigger, tuple(reads.get(name, [])),
                                tuple(p for p, s in spec.params.items() if s.required)))
    return Explanation(
        kpi_id=kpi_id, title=kpi.title, plain_words=describe_kpi(query), owner=kpi.owner, team=kpi.team,
        objective=kpi.objective, status=kpi.status, target=_target_text(kpi), source_file=sk.doc.path,
        events=tuple(events), api_expressible=api_kpi.expressible, api_reason=api_kpi.reason,
        api_requests=[api.requests[r].to_proto_json() for r in api_kpi.request_ids()],
        sql={d: render_sql(query, plan, d) for d in DIALECTS},
    )


def _target_text(kpi: Any) -> str:
    steps = kpi.target_steps()
    if not steps:
        return "no target"
    per = f" per {kpi.target_per()}" if kpi.target_per() else ""
    if not kpi.target_is_steps():
        return f"{_in_format(kpi, steps[0].value)}{per}"
    return "; ".join(f"{_in_format(kpi, s.value)}{per} from {s.from_.isoformat()}" for s in steps)


def _in_format(kpi: Any, value: float) -> str:
    """A target as the KPI shows it: 0.03 of a percent KPI is "3%", 60000 EUR "60,000 EUR"."""
    if kpi.format == "percent":
        return f"{float(value) * 100:.4g}%"
    if kpi.format == "currency":
        return f"{float(value):,.2f}".removesuffix(".00") + (f" {kpi.currency}" if kpi.currency else "")
    return f"{value:g}"
