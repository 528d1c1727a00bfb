"""The tracking spec as IT reads it: events grouped by objective and KPI, each param with the KPIs
(and owners) that need it, the GA4 registrations, and the quota they use. Pure: catalog in, model out.

Every target of the spec (Markdown, HTML, JSON Schemas, snippets, TypeScript, GA4 Admin manifest) and
`kpi check-events` read this one model, so they cannot disagree.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

from ..ga4 import limits
from ..models.event import ParamSpec
from ..models.kpi import Kpi
from ..parse.catalog import KpiCatalog, SourcedEvent, SourcedKpi
from ..parse.measures import events_of, param_uses, population_parts
from ..plan.formula import FormulaError, parse_formula, references
from .custom_definitions import required_custom_definitions
from .placeholders import placeholder
from .stamp import STAMP_PARAM, spec_version, stamp_param

KEY_EVENTS_MAX = 30  # standard property (ga4.md §2: third-party figure)
ADMIN_DESCRIPTION_MAX = limits.DESCRIPTION_MAX

_POPULATION_WORDS = {"users": "active users", "sessions": "sessions", "new_users": "new users",
                     "engaged_sessions": "engaged sessions"}


@dataclass(frozen=True)
class KpiRef:
    """A KPI as the spec cites it: who owns it and what it aims for."""

    id: str
    title: str
    owner: str
    team: str
    objective: str
    description: str
    target: str  # "12%", "900 from 2026-01-01, 1000 from 2026-10-01", or ""
    direction: str  # up | down
    file: str

    @property
    def label(self) -> str:
        return f"{self.id} ({self.owner})"


@dataclass(frozen=True)
class Need:
    """Why a KPI needs an event or param: `role` is sum / average / filter / breakdown / event;
    `via` names the KPI a derived KPI gets it through."""

    kpi: KpiRef
    role: str = "event"
    via: str = ""

    @property
    def text(self) -> str:
        how = f"{self.role}, " if self.role != "event" else ""
        via = f"via {self.via}, " if self.via else ""
        return f"{self.kpi.id} ({how}{via}{self.kpi.owner})"


@dataclass(frozen=True)
class Registration:
    """A GA4 Admin step an event needs: a key event or a custom dimension / metric."""

    kind: str  # key_event | custom_dimension | custom_metric
    name: str
    display_name: str = ""

    @property
    def text(self) -> str:
        if self.kind == "key_event":
            return f"Mark `{self.name}` as a key event (Admin → Data display → Key events)."
        what = "custom dimension" if self.kind == "custom_dimension" else "custom metric"
        return (f"Register the param `{self.name}` as an event-scoped {what} “{self.display_name}” "
                "(Admin → Data display → Custom definitions).")


@dataclass(frozen=True)
class ParamEntry:
    """One param of an event, with its constraints and the KPIs that read it."""

    name: str
    type: str
    required: bool
    description: str
    enum: tuple[str | int, ...] | None
    pattern: str | None
    min: int | float | None
    max: int | float | None
    example: Any
    placeholder: Any  # the value snippets and sample events use
    pii: str  # "" (no), "yes", or the kind: email, phone, name, address, other
    max_length: int | None  # GA4's value-length limit for strings
    needs: tuple[Need, ...]
    in_snippet: bool  # required, read by a KPI, or declared in kpis/events.yaml
    custom_definition: str = ""  # "dimension" / "metric" when the param must be registered

    @property
    def constraints(self) -> list[str]:
        """Allowed values, pattern and bounds in words, for the params table."""
        out: list[str] = []
        if self.enum:
            out.append("one of " + ", ".join(str(v) for v in self.enum))
        if self.pattern:
            out.append(f"matches {self.pattern}")
        if self.min is not None:
            out.append(f"≥ {self.min:g}")
        if self.max is not None:
            out.append(f"≤ {self.max:g}")
        if self.max_length is not None:
            out.append(f"at most {self.max_length} characters")
        return out


@dataclass(frozen=True)
class EventEntry:
    """One event of the spec: when it fires, what it carries, who needs it, what to register."""

    name: str
    trigger: str
    description: str
    key_event: bool
    builtin: bool
    declared: bool
    automatic: bool  # collected by GA4 itself (reserved name): never send it yourself
    params: tuple[ParamEntry, ...]
    needs: tuple[Need, ...]
    registrations: tuple[Registration, ...]
    spec_version: str = ""  # sent as `kb_spec` on every event (spec_stamp.py); "" for GA4's automatic events
    before_consent: bool = False  # may be sent before analytics consent (a cookieless ping under consent mode)

    @property
    def file_stem(self) -> str:
        """The event's name as a file name (names GA4 would reject get a safe, unique stand-in)."""
        return file_stem(self.name)

    @property
    def ecommerce(self) -> bool:
        """GA4 ecommerce events carry `items`; dataLayer pushes put their params under `ecommerce`."""
        return any(p.type == "items" for p in self.params)

    @property
    def orphan(self) -> bool:
        return not self.needs

    @property
    def kpis(self) -> tuple[KpiRef, ...]:
        seen: dict[str, KpiRef] = {}
        for n in self.needs:
            seen.setdefault(n.kpi.id, n.kpi)
        return tuple(seen.values())

    @property
    def snippet_params(self) -> tuple[ParamEntry, ...]:
        return tuple(p for p in self.params if p.in_snippet)

    @property
    def optional_params(self) -> tuple[ParamEntry, ...]:
        """Documented GA4 params no KPI reads: shown commented out in snippets."""
        return tuple(p for p in self.params if not p.in_snippet)


@dataclass(frozen=True)
class KpiSection:
    kpi: KpiRef
    events: tuple[str, ...]
    note: str  # for KPIs with no event of their own: what they rely on


@dataclass(frozen=True)
class ObjectiveSection:
    """An objective, its KPIs, and the events first needed here (later objectives link back)."""

    name: str
    kpis: tuple[KpiSection, ...]
    events: tuple[EventEntry, ...]


@dataclass(frozen=True)
class CustomDefinitionEntry:
    """A custom dimension or metric to register in GA4 Admin, with the KPIs that need it."""

    parameter: str
    kind: str  # dimension | metric
    scope: str
    display_name: str
    description: str
    events: tuple[str, ...]
    needs: tuple[Need, ...]
    measurement_unit: str = ""

    @property
    def api_name(self) -> str:
        return f"customEvent:{self.parameter}"


@dataclass(frozen=True)
class KeyEventEntry:
    event: str
    counting_method: str
    needs: tuple[Need, ...]


@dataclass(frozen=True)
class Quota:
    key: str
    label: str
    used: int
    limit: int

    @property
    def over(self) -> bool:
        return self.used > self.limit


@dataclass(frozen=True)
class SpecModel:
    objectives: tuple[ObjectiveSection, ...]
    events: tuple[EventEntry, ...]  # every event of the spec, by name
    orphans: tuple[EventEntry, ...]  # declared in kpis/events.yaml, needed by no active KPI
    custom_dimensions: tuple[CustomDefinitionEntry, ...]
    custom_metrics: tuple[CustomDefinitionEntry, ...]
    key_events: tuple[KeyEventEntry, ...]
    quotas: tuple[Quota, ...]
    kpis: tuple[KpiRef, ...]
    _by_name: dict[str, EventEntry] = field(default_factory=dict, compare=False, repr=False)

    def event(self, name: str) -> EventEntry | None:
        return self._by_name.get(name)

    @property
    def to_implement(self) -> tuple[EventEntry, ...]:
        """Events the site must send (GA4 collects the automatic ones itself)."""
        return tuple(e for e in self.events if not e.automatic)

    @property
    def param_count(self) -> int:
        return sum(len(e.params) for e in self.to_implement)


# ---------------------------------------------------------------------------------------------- build


def build_spec(catalog: KpiCatalog) -> SpecModel:
    """The event-centric view of the catalog: only active KPIs create needs."""
    active = sorted(catalog.active_kpis(), key=lambda s: s.kpi.kpi)
    refs = {s.kpi.kpi: kpi_ref(s) for s in active}
    event_needs, param_needs = _needs(active, refs)
    cdefs = _custom_definitions(catalog, param_needs)
    registered = {(c.parameter, c.kind) for c in cdefs}
    names = sorted(set(event_needs) | {n for n, e in catalog.events.items() if e.declared})
    events = tuple(_event_entry(catalog.events[n], event_needs.get(n, []), param_needs, registered)
                   for n in names if n in catalog.events)
    by_name = {e.name: e for e in events}
    dims = tuple(c for c in cdefs if c.kind == "dimension")
    mets = tuple(c for c in cdefs if c.kind == "metric")
    keys = tuple(KeyEventEntry(e.name, "ONCE_PER_EVENT", e.needs) for e in events if e.key_event and not e.orphan)
    quotas = (
        Quota("event_scoped_dimensions", "event-scoped custom dimensions", len(dims),
              limits.EVENT_SCOPED_DIMENSIONS_MAX),
        Quota("user_scoped_dimensions", "user-scoped custom dimensions", 0, limits.USER_SCOPED_DIMENSIONS_MAX),
        Quota("custom_metrics", "custom metrics", len(mets), limits.CUSTOM_METRICS_MAX),
        Quota("key_events", "key events", len(keys), KEY_EVENTS_MAX),
    )
    return SpecModel(
        objectives=_objectives(active, refs, by_name),
        events=events,
        orphans=tuple(e for e in events if e.orphan),
        custom_dimensions=dims,
        custom_metrics=mets,
        key_events=keys,
        quotas=quotas,
        kpis=tuple(refs.values()),
        _by_name=by_name,
    )


def kpi_ref(sk: SourcedKpi) -> KpiRef:
    k = sk.kpi
    return KpiRef(k.kpi, k.title, k.owner, k.team, k.objective, k.description, target_text(k), k.direction,
                  sk.doc.path)


def exact_value_text(value: float, kpi: Kpi) -> str:
    """A target as written in the KPI file, unrounded, for the specs (the dashboard rounds for reading:
    dashboards/formatting.py)."""
    if kpi.format == "percent":
        return f"{round(value * 100, 4):g}%"
    if kpi.format == "currency":
        return f"{value:g} {kpi.currency or ''}".strip()
    return f"{value:g}"


def target_text(kpi: Kpi) -> str:
    steps = kpi.target_steps()
    if not steps:
        return ""
    per = f" per {kpi.target_per()}" if kpi.target_per() else ""
    if not kpi.target_is_steps():
        return exact_value_text(steps[0].value, kpi) + per
    return ", ".join(f"{exact_value_text(s.value, kpi)}{per} from {s.from_.isoformat()}" for s in steps)


def derived_sources(kpi: Kpi, kpis: dict[str, Kpi]) -> list[str]:
    """The non-derived KPIs a derived KPI reads, transitively (cycles and bad formulas give none)."""
    out: list[str] = []
    stack, seen = [kpi.kpi], {kpi.kpi}
    while stack:
        current = kpis.get(stack.pop())
        if current is None or current.measure.derived is None:
            continue
        try:
            refs = references(parse_formula(current.measure.derived.formula))
        except FormulaError:
            continue
        for ref in refs:
            if ref in seen:
                continue
            seen.add(ref)
            stack.append(ref)
            if ref in kpis and kpis[ref].measure.derived is None:
                out.append(ref)
    return sorted(out)


def _needs(active: list[SourcedKpi], refs: dict[str, KpiRef]
           ) -> tuple[dict[str, list[Need]], dict[tuple[str, str], list[Need]]]:
    kpis = {s.kpi.kpi: s.kpi for s in active}
    events: dict[str, list[Need]] = {}
    params: dict[tuple[str, str], list[Need]] = {}
    for s in active:
        sources = [(s.kpi, "")] if s.kpi.measure.derived is None else \
            [(kpis[r], r) for r in derived_sources(s.kpi, kpis)]
        ref = refs[s.kpi.kpi]
        for source, via in sources:
            for event in events_of(source):
                _add(events.setdefault(event, []), Need(ref, "event", via))
            for use in param_uses(source):
                if via and use.role == "breakdown":
                    continue  # breakdowns belong to the KPI that declares them
                _add(params.setdefault((use.event, use.param), []), Need(ref, use.role, via))
    return events, params


def _add(needs: list[Need], need: Need) -> None:
    if need not in needs:
        needs.append(need)


def _event_entry(sourced: SourcedEvent, needs: list[Need], param_needs: dict[tuple[str, str], list[Need]],
                 registered: set[tuple[str, str]]) -> EventEntry:
    spec = sourced.spec
    own = _own_params(sourced)
    params: list[ParamEntry] = []
    for name, pspec in spec.params.items():
        pneeds = tuple(param_needs.get((sourced.name, name), []))
        cdef = next((k for k in ("dimension", "metric") if (name, k) in registered and pneeds), "")
        params.append(_param_entry(name, pspec, pneeds, name in own, cdef))
    value = next((p.placeholder for p in params if p.name == "value" and p.type in ("number", "integer")), None)
    if value is not None:  # keep the sample consistent: the item's price is the event's value
        params = [replace(p, placeholder=[{**p.placeholder[0], "price": value}]) if p.type == "items" else p
                  for p in params]
    ordered = sorted(enumerate(params), key=lambda ip: (not ip[1].required, not ip[1].needs, ip[0]))
    automatic = sourced.builtin and sourced.name in limits.RESERVED_EVENT_NAMES
    entries = [p for _, p in ordered if p.name != STAMP_PARAM]
    version = "" if automatic else spec_version(sourced.name, entries)
    if version:
        entries.append(stamp_param(version))
    regs: list[Registration] = []
    if spec.key_event and needs:
        regs.append(Registration("key_event", sourced.name))
    for _, entry in ordered:
        if entry.custom_definition:
            regs.append(Registration(f"custom_{entry.custom_definition}", entry.name, display_name(entry.name)))
    return EventEntry(
        name=sourced.name, trigger=spec.trigger, description=spec.description, key_event=spec.key_event,
        builtin=sourced.builtin, declared=sourced.declared, automatic=automatic,
        params=tuple(entries), needs=tuple(sorted(needs, key=_need_key)), registrations=tuple(regs),
        spec_version=version, before_consent=spec.before_consent)


def _need_key(n: Need) -> tuple[str, str, str]:
    return (n.kpi.id, n.via, n.role)


def _own_params(sourced: SourcedEvent) -> set[str]:
    if sourced.doc is None:
        return set()
    declared = (sourced.doc.data.get("events") or {}).get(sourced.name) or {}
    return set((declared.get("params") or {}) if isinstance(declared, dict) else ())


def _param_entry(name: str, p: ParamSpec, needs: tuple[Need, ...], own: bool, cdef: str) -> ParamEntry:
    pii = "" if p.pii is False else ("yes" if p.pii is True else p.pii)
    max_length = limits.LONG_PARAM_VALUE_MAX.get(name, limits.PARAM_VALUE_MAX) if p.type == "string" else None
    return ParamEntry(
        name=name, type=p.type, required=p.required, description=p.description,
        enum=tuple(p.enum) if p.enum else None, pattern=p.pattern, min=p.min, max=p.max, example=p.example,
        placeholder=placeholder(name, p), pii=pii, max_length=max_length, needs=tuple(sorted(needs, key=_need_key)),
        in_snippet=p.required or bool(needs) or own, custom_definition=cdef)


def file_stem(name: str) -> str:
    if limits.NAME_RE.match(name) and len(name) <= limits.NAME_MAX:
        return name
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    return f"{limits.safe_name(name)}_{digest}"


def display_name(parameter: str) -> str:
    """GA4 display name: letters, digits, spaces; starts with a letter; at most 82 characters."""
    return parameter.replace("_", " ").strip().capitalize()[: limits.DISPLAY_NAME_MAX]


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary with an ellipsis."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1].rsplit(" ", 1)[0] if " " in flat[: limit - 1] else flat[: limit - 1]
    return cut.rstrip(" ,;.") + "…"


def _custom_definitions(catalog: KpiCatalog, param_needs: dict[tuple[str, str], list[Need]]
                        ) -> list[CustomDefinitionEntry]:
    out = []
    for c in required_custom_definitions(catalog):
        found: list[Need] = []
        for event in c.events:
            for need in param_needs.get((event, c.parameter), []):
                _add(found, need)
        needs = tuple(sorted(found, key=_need_key))
        described = next((p.description for e in c.events if (p := catalog.param(e, c.parameter)) and p.description),
                         "")
        kpis = ", ".join(c.kpis)
        text = f"{described.rstrip('.')}. Needed by {kpis}." if described else f"Needed by the KPIs {kpis}."
        out.append(CustomDefinitionEntry(
            parameter=c.parameter, kind=c.kind, scope=c.scope, display_name=display_name(c.parameter),
            description=shorten(text, ADMIN_DESCRIPTION_MAX), events=c.events, needs=needs,
            measurement_unit=c.numeric_type or ("" if c.kind == "dimension" else "STANDARD")))
    return out


def _objectives(active: list[SourcedKpi], refs: dict[str, KpiRef],
                by_name: dict[str, EventEntry]) -> tuple[ObjectiveSection, ...]:
    kpis = {s.kpi.kpi: s.kpi for s in active}
    grouped: dict[str, list[SourcedKpi]] = {}
    for s in active:
        grouped.setdefault(s.kpi.objective, []).append(s)
    shown: set[str] = set()
    sections = []
    for objective in sorted(grouped, key=str.lower):
        kpi_sections = []
        first_here: list[str] = []
        for s in grouped[objective]:
            names = _kpi_events(s.kpi, kpis)
            kpi_sections.append(KpiSection(refs[s.kpi.kpi], tuple(names), _kpi_note(s.kpi, kpis)))
            first_here += [n for n in names if n not in shown and n not in first_here and n in by_name]
        shown.update(first_here)
        sections.append(ObjectiveSection(objective, tuple(kpi_sections),
                                         tuple(by_name[n] for n in sorted(first_here))))
    return tuple(sections)


def _kpi_events(kpi: Kpi, kpis: dict[str, Kpi]) -> list[str]:
    if kpi.measure.derived is None:
        return events_of(kpi)
    out: list[str] = []
    for source in derived_sources(kpi, kpis):
        out += [e for e in events_of(kpis[source]) if e not in out]
    return out


def _kpi_note(kpi: Kpi, kpis: dict[str, Kpi]) -> str:
    if kpi.measure.derived is not None:
        return f"Computed from other KPIs: {kpi.measure.derived.formula.strip()}."
    pops = sorted({_POPULATION_WORDS[kind] for kind, _spec, _path in population_parts(kpi)})
    if pops and not events_of(kpi):
        return (f"Uses {' and '.join(pops)}, which GA4 collects itself once the Google tag is on every page: "
                "no event to implement.")
    if pops:
        return f"Also uses {' and '.join(pops)}, collected by GA4 itself."
    return ""
