"""Documents → the KpiCatalog: every KPI and event, each with the document it came from."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from ..issues import Issue, Level, SourceLocation
from ..models.event import EventsCatalog, EventSpec, ParamSpec, UserPropertySpec
from ..models.kpi import Kpi
from .discovery import discover_files
from .loading import Document, KeyPath, KpiFileError, load_document, parse_document
from .validation_errors import issues_from_validation_error


@dataclass(frozen=True)
class SourcedKpi:
    kpi: Kpi
    doc: Document

    def locate(self, *path: str | int) -> SourceLocation:
        return self.doc.locate(path)


@dataclass(frozen=True)
class SourcedEvent:
    """An event as the KPIs see it: GA4's built-in definition merged with the catalog's."""

    name: str
    spec: EventSpec
    builtin: bool
    doc: Document | None = None  # the events catalog that declares it, if any

    @property
    def declared(self) -> bool:
        return self.doc is not None

    def locate(self, *path: str | int) -> SourceLocation:
        if self.doc is None:
            return SourceLocation("(GA4 built-in events)", 1, 1, ".".join(map(str, path)))
        return self.doc.locate(("events", self.name, *path))


@dataclass
class KpiCatalog:
    """The whole set of KPI files: what every later stage reads."""

    kpis: dict[str, SourcedKpi] = field(default_factory=dict)
    events: dict[str, SourcedEvent] = field(default_factory=dict)
    user_properties: dict[str, UserPropertySpec] = field(default_factory=dict)
    events_docs: list[Document] = field(default_factory=list)
    unparsed_kpi_ids: set[str] = field(default_factory=set)
    """Ids of KPI files that have errors of their own: other rules do not report them as missing."""

    def active_kpis(self) -> list[SourcedKpi]:
        return [k for k in self.kpis.values() if k.kpi.status == "active"]

    def param(self, event: str, param: str) -> ParamSpec | None:
        sourced = self.events.get(event)
        return sourced.spec.params.get(param) if sourced else None


@dataclass
class LoadResult:
    catalog: KpiCatalog
    issues: list[Issue]
    files: list[str]


def load_catalog(paths: Iterable[Path], relative_to: Path | None = None,
                 texts: Mapping[Path, bytes] | None = None) -> LoadResult:
    """Load and parse every KPI file and events catalog; collect all issues, never stop at one.

    `texts` gives the content of some files instead of the disk (files not yet written included): the
    form editor checks unsaved changes with exactly this loader and these rules.
    """
    issues: list[Issue] = []
    docs: list[Document] = []
    texts = texts or {}
    files = sorted(set(discover_files(paths)) | set(texts))
    base = (relative_to or Path.cwd()).resolve()
    shown = {path: _display(path, base) for path in files}
    for path in files:
        display = shown[path]
        if path in texts:
            try:
                docs.append(parse_document(texts[path], display))
            except KpiFileError as exc:
                issues.append(exc.issue)
            continue
        if not path.exists():
            issues.append(Issue("KB100", Level.ERROR, "no such file or folder.", SourceLocation(display),
                                "Check the path; KPI files live under `kpis/`."))
            continue
        try:
            docs.append(load_document(path, display))
        except KpiFileError as exc:
            issues.append(exc.issue)
    catalog, parse_issues = build_catalog(docs)
    return LoadResult(catalog, issues + parse_issues, [shown[p] for p in files])


def _display(path: Path, base: Path) -> str:
    """The path as the user knows it: relative to the working folder when inside it."""
    try:
        return str(path.absolute().relative_to(base))
    except ValueError:
        return str(path)


def build_catalog(docs: Iterable[Document]) -> tuple[KpiCatalog, list[Issue]]:
    """Parse documents into models; merge the events catalog over GA4's built-in events."""
    catalog = KpiCatalog()
    issues: list[Issue] = []
    declared: dict[str, tuple[EventSpec, Document]] = {}
    for doc in docs:
        kind = _kind_of(doc)
        if kind is None:
            issues.append(Issue(
                "KB206", Level.ERROR, "this file is neither a KPI (no `kpi:` key) nor an events catalog "
                "(no `events:` key).", doc.locate(()),
                "A KPI file starts with `version: 1` and `kpi: <id>`; the events catalog has `events:`."))
            continue
        model = Kpi if kind == "kpi" else EventsCatalog
        try:
            parsed = model.model_validate(doc.data)
        except ValidationError as err:
            issues.extend(issues_from_validation_error(err, doc, model))
            if kind == "kpi" and isinstance(doc.data.get("kpi"), str):
                catalog.unparsed_kpi_ids.add(doc.data["kpi"])
            elif kind == "events":
                catalog.unparsed_kpi_ids.add("*events*")
            continue
        if isinstance(parsed, Kpi):
            if parsed.kpi in catalog.kpis:
                first = catalog.kpis[parsed.kpi].locate("kpi")
                issues.append(Issue(
                    "KB304", Level.ERROR, f"the KPI id `{parsed.kpi}` is already used by {first}.",
                    doc.locate(("kpi",)), "Every KPI needs its own id; rename one of them."))
                continue
            catalog.kpis[parsed.kpi] = SourcedKpi(parsed, doc)
            continue
        assert isinstance(parsed, EventsCatalog)
        catalog.events_docs.append(doc)
        catalog.user_properties.update(parsed.user_properties)
        for name, spec in parsed.events.items():
            if name in declared:
                first = declared[name][1].locate(("events", name))
                issues.append(Issue(
                    "KB309", Level.ERROR, f"the event `{name}` is declared twice (first at {first}).",
                    doc.locate(("events", name)), "Keep one declaration and merge the params into it."))
                continue
            declared[name] = (spec, doc)
    builtins = builtin_events()
    for name, spec in builtins.items():
        catalog.events[name] = SourcedEvent(name, spec, builtin=True)
    for name, (spec, doc) in declared.items():
        base = builtins.get(name)
        merged = _merge(base, spec) if base else spec
        catalog.events[name] = SourcedEvent(name, merged, builtin=base is not None, doc=doc)
    return catalog, issues


def _kind_of(doc: Document) -> str | None:
    if "kpi" in doc.data:
        return "kpi"
    if "events" in doc.data or "user_properties" in doc.data:
        return "events"
    return None


def _merge(base: EventSpec, own: EventSpec) -> EventSpec:
    """The catalog's declaration wins field by field; built-in params it does not mention stay."""
    params = {**base.params, **own.params}
    return EventSpec(
        trigger=own.trigger or base.trigger,
        description=own.description or base.description,
        key_event=own.key_event or base.key_event,
        before_consent=own.before_consent or base.before_consent,
        params=params,
    )


@functools.cache
def builtin_events() -> dict[str, EventSpec]:
    """GA4's automatically collected and recommended events (generator/ga4/builtin_events.yaml)."""
    raw = resources.files("generator.ga4").joinpath("builtin_events.yaml").read_bytes()
    doc = parse_document(raw, "generator/ga4/builtin_events.yaml")
    return dict(EventsCatalog.model_validate(doc.data).events)


def iter_param_paths(catalog: KpiCatalog) -> Iterator[tuple[SourcedEvent, str, ParamSpec, KeyPath]]:
    """Every declared (not built-in-only) param with its key path inside the events catalog."""
    for sourced in catalog.events.values():
        if sourced.doc is None:
            continue
        own = sourced.doc.data.get("events", {}).get(sourced.name) or {}
        for pname in (own.get("params") or {}):
            spec = sourced.spec.params.get(pname)
            if spec is not None:
                yield sourced, pname, spec, ("events", sourced.name, "params", pname)
