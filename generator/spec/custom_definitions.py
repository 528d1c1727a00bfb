"""The GA4 custom definitions the KPIs need: exactly the params some KPI filters, breaks down or adds up.

GA4 only reports a custom event param after it is registered as a custom dimension (text) or custom
metric (number). Params GA4 already reports through a standard name (e.g. `value` → `eventValue`,
`purchase.value` → `purchaseRevenue`) need no registration.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..parse.catalog import KpiCatalog
from ..parse.measures import param_uses

# Params GA4 reports without registration, by the role they play.
STANDARD_PARAMS = {"value", "currency", "transaction_id", "coupon", "page_location", "page_referrer", "page_title",
                   "search_term", "method", "items", "engagement_time_msec", "ga_session_id", "ga_session_number"}


@dataclass(frozen=True)
class CustomDefinition:
    """One custom dimension or metric to register in GA4 Admin."""

    parameter: str
    kind: str  # "dimension" | "metric"
    scope: str  # "EVENT"
    events: tuple[str, ...]
    kpis: tuple[str, ...]
    description: str = ""
    numeric_type: str = ""  # for metrics: STANDARD / CURRENCY

    @property
    def api_name(self) -> str:
        return f"customEvent:{self.parameter}"

    @property
    def display_name(self) -> str:
        return self.parameter.replace("_", " ").capitalize()[:82]


@dataclass
class _Acc:
    events: set[str] = field(default_factory=set)
    kpis: set[str] = field(default_factory=set)
    description: str = ""


def required_custom_definitions(catalog: KpiCatalog) -> list[CustomDefinition]:
    """Custom dimensions (params filtered on or broken down by) and metrics (params summed / averaged)."""
    dims: dict[str, _Acc] = {}
    mets: dict[str, _Acc] = {}
    for sk in catalog.active_kpis():
        for use in param_uses(sk.kpi):
            if use.param in STANDARD_PARAMS:
                continue
            target = mets if use.role in ("sum", "average") else dims
            acc = target.setdefault(use.param, _Acc())
            acc.events.add(use.event)
            acc.kpis.add(sk.kpi.kpi)
            spec = catalog.param(use.event, use.param)
            if spec is not None and spec.description and not acc.description:
                acc.description = spec.description
    out = [CustomDefinition(p, "dimension", "EVENT", tuple(sorted(a.events)), tuple(sorted(a.kpis)),
                            a.description[:150]) for p, a in sorted(dims.items())]
    out += [CustomDefinition(p, "metric", "EVENT", tuple(sorted(a.events)), tuple(sorted(a.kpis)),
                             a.description[:150], "STANDARD") for p, a in sorted(mets.items())]
    return out
