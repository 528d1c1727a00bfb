"""What the spec needs registered, and what a property has, in one shape: `Definition`."""

from __future__ import annotations

from dataclasses import dataclass

from generator.spec.model import CustomDefinitionEntry, Need, SpecModel

KINDS = ("custom_dimension", "custom_metric", "key_event")
KIND_WORDS = {"custom_dimension": "custom dimension", "custom_metric": "custom metric", "key_event": "key event"}


@dataclass(frozen=True)
class Definition:
    """A custom dimension, custom metric or key event: wanted by the spec, or found in the property."""

    kind: str  # custom_dimension | custom_metric | key_event
    key: str  # the param name (custom definitions) or the event name (key events)
    scope: str = "EVENT"  # EVENT / USER / ITEM for dimensions; EVENT for metrics and key events
    display_name: str = ""
    description: str = ""
    measurement_unit: str = ""  # metrics
    counting_method: str = ""  # key events: ONCE_PER_EVENT / ONCE_PER_SESSION
    kpis: tuple[str, ...] = ()  # "revenue (owner@x)", the KPIs behind a wanted definition
    resource: str = ""  # the property's resource name, for existing ones
    deletable: bool = True  # GA4's default key events (purchase, ...) cannot be deleted

    @property
    def identity(self) -> tuple[str, str, str]:
        return (self.kind, self.key, self.scope)

    @property
    def label(self) -> str:
        scope = f"{self.scope.lower()}-scoped " if self.kind != "key_event" else ""
        return f"{scope}{KIND_WORDS[self.kind]} `{self.key}`"


def _kpis(needs: tuple[Need, ...]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for n in needs:
        seen.setdefault(n.kpi.id, f"{n.kpi.id} ({n.kpi.owner})" if n.kpi.owner else n.kpi.id)
    return tuple(seen[k] for k in sorted(seen))


def _custom(c: CustomDefinitionEntry, kind: str) -> Definition:
    return Definition(kind, c.parameter, c.scope, c.display_name, c.description,
                      c.measurement_unit if kind == "custom_metric" else "", "", _kpis(c.needs))


def wanted_definitions(spec: SpecModel) -> list[Definition]:
    """Every registration the spec lists (the same as `build/spec/ga4-admin.json`)."""
    out = [_custom(c, "custom_dimension") for c in spec.custom_dimensions]
    out += [_custom(c, "custom_metric") for c in spec.custom_metrics]
    out += [Definition("key_event", k.event, "EVENT", counting_method=k.counting_method, kpis=_kpis(k.needs))
            for k in spec.key_events]
    return out
