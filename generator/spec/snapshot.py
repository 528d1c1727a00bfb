"""The catalog as plain JSON data: what `kpi diff` compares, and what `spec/catalog.json` keeps so the next
`kpi generate` can say what changed since the previous build."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..parse.catalog import KpiCatalog
from .model import Need, ParamEntry, SpecModel, build_spec, target_text

SNAPSHOT_FORMAT = 1


def _json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    return value


def _param_snapshot(p: ParamEntry) -> dict[str, Any]:
    return {"type": p.type, "required": p.required, "enum": list(p.enum) if p.enum else None,
            "pattern": p.pattern, "min": p.min, "max": p.max, "pii": p.pii, "description": p.description,
            "kpis": _ids(p.needs)}


def _ids(needs: Iterable[Need]) -> list[str]:
    return sorted({n.kpi.id for n in needs})


def snapshot_of(catalog: KpiCatalog, spec: SpecModel | None = None) -> dict[str, Any]:
    """Everything `kpi diff` compares, as plain JSON data (written to `spec/catalog.json`)."""
    spec = spec or build_spec(catalog)
    events = {e.name: {
        "trigger": e.trigger, "description": e.description, "key_event": e.key_event, "automatic": e.automatic,
        "kpis": _ids(e.needs), "params": {p.name: _param_snapshot(p) for p in e.params},
        "spec_version": e.spec_version, "before_consent": e.before_consent,
    } for e in spec.events}
    kpis = {}
    for kid in sorted(catalog.kpis):
        k = catalog.kpis[kid].kpi
        kpis[kid] = {
            "title": k.title, "description": k.description, "objective": k.objective, "owner": k.owner,
            "team": k.team, "status": k.status, "format": k.format, "currency": k.currency,
            "direction": k.direction, "time_grain": k.time_grain, "target": target_text(k),
            "thresholds": k.thresholds.model_dump(exclude_none=True) if k.thresholds else None,
            "breakdowns": k.breakdown_names(),
            "measure": k.measure.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True),
            "file": catalog.kpis[kid].doc.path,
        }
    cdefs = {f"{c.kind}:{c.parameter}": {"kind": c.kind, "parameter": c.parameter, "scope": c.scope,
                                         "display_name": c.display_name, "events": list(c.events),
                                         "kpis": _ids(c.needs)}
             for c in (*spec.custom_dimensions, *spec.custom_metrics)}
    return _json_ready({"format": SNAPSHOT_FORMAT, "events": events, "kpis": kpis, "custom_definitions": cdefs})
