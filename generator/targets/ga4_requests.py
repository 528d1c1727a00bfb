"""`queries/ga4/`: the GA4 Data API requests that compute each KPI.

- `queries/ga4/<kpi>.json`: the KPI's own requests as `BatchRunReportsRequest` proto JSON (each element
  of `batches` is accepted by the client as it is), where its numbers are in the responses, and, for a
  KPI the API cannot compute faithfully, why not (it then comes from the BigQuery export only).
- `queries/ga4/requests.json`: every request once, shared across KPIs, in batches of at most 5:
  what `kpi load ga4-api` runs.
"""

from __future__ import annotations

import json
from typing import Any

from ..ga4.limits import API_REPORTS_PER_BATCH
from ..plan.api_plan import PROPERTY_PLACEHOLDER, ApiPlan, api_plan_to_dict
from ..spec.plain_words import describe_kpi
from .artifact import Artifact
from .context import RenderContext

NAME = "ga4_requests"


def render(ctx: RenderContext) -> list[Artifact]:
    plan = ctx.query_plan()
    api = ctx.api_plan()
    artifacts = [Artifact("queries/ga4/requests.json", _dump(api_plan_to_dict(api)))]
    for kid, query in sorted(plan.kpis.items()):
        sk = ctx.catalog.kpis[kid]
        artifacts.append(Artifact(f"queries/ga4/{kid}.json", _dump(_kpi_file(api, kid, sk.kpi.title,
                                                                              sk.kpi.owner, describe_kpi(query)))))
    return artifacts


def request_summary(api: ApiPlan, kpi_count: int) -> str:
    """`11 requests in 3 batches for 12 KPIs` — for `kpi generate`'s summary."""
    batches = len(api.batches())
    naive = sum(len(k.request_ids()) for k in api.kpis.values())
    return (f"{len(api.requests)} Data API requests in {batches} batch{'es' if batches != 1 else ''} "
            f"for {kpi_count} KPIs ({naive} without sharing)")


def _kpi_file(api: ApiPlan, kid: str, title: str, owner: str, plain: str) -> dict[str, Any]:
    k = api.kpis[kid]
    out: dict[str, Any] = {"kpi": kid, "title": title, "owner": owner, "definition": plain,
                           "expressible": k.expressible}
    if not k.expressible:
        out["reason"] = f"Not from the Data API: {k.reason}."
        return out
    if k.components:
        out["computedFrom"] = list(k.components)
        out["note"] = "Computed from the listed KPIs' values; it needs no request of its own."
        return out
    requests = [api.requests[rid] for rid in k.request_ids()]
    out["batches"] = [
        {"property": PROPERTY_PLACEHOLDER,
         "requests": [r.to_proto_json() for r in requests[i:i + API_REPORTS_PER_BATCH]]}
        for i in range(0, len(requests), API_REPORTS_PER_BATCH)]
    out["requestIds"] = [r.request_id for r in requests]
    out["numerator"] = {b: s.to_dict() for b, s in sorted(k.numerator.items())}
    if k.denominator:
        out["denominator"] = {b: s.to_dict() for b, s in sorted(k.denominator.items())}
    return out


def _dump(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
