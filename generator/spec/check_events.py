"""`kpi check-events FILE`: validate sample events against the spec, with the line number of each problem.

FILE is NDJSON: one GA4 Measurement Protocol payload (`{"client_id", "events": [{"name", "params"}]}`),
one dataLayer push (`{"event": ..., ...}`, ecommerce params under `ecommerce`), one bare event
(`{"name", "params"}`) or one gtag call (`["event", name, params]`) per line. Params are checked with the
same JSON Schemas `kpi generate` writes, plus GA4's naming rules and a personal-data scan.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError

from ..ga4 import limits
from ..issues import did_you_mean
from ..parse.catalog import KpiCatalog
from ..rules.pii_values import personal_kind
from ..rules.regex import PatternError, search
from ..targets.event_schemas import PARAM_NAME_PATTERN, params_schema
from .model import EventEntry, SpecModel

MP_EVENTS_MAX = 25
# Params GA4 or the tag add to every event: never "unknown".
GA4_DEFAULT_PARAMS = frozenset({
    "language", "page_location", "page_referrer", "page_title", "screen_resolution", "engagement_time_msec",
    "session_id", "debug_mode", "send_to", "event_callback", "event_timeout", "non_interaction",
})
GTM_KEYS = frozenset({"event", "ecommerce", "eventCallback", "eventTimeout", "eventModel"})


_OWN_PATTERNS = frozenset({PARAM_NAME_PATTERN})


def _re2_pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    """JSON Schema's `pattern`, run with RE2 (linear time, as in the warehouse) instead of Python's `re`."""
    if not validator.is_type(instance, "string"):
        return
    if pattern in _OWN_PATTERNS:  # KPI Bridge's own fixed, linear patterns (GA4's name rule uses a look-ahead)
        if not re.search(pattern, instance):
            yield ValidationError(f"{instance!r} does not match {pattern!r}")
        return
    try:
        matched = search(pattern, instance)
    except PatternError as exc:
        yield ValidationError(f"the spec's pattern {pattern!r} cannot be used ({exc}); fix it in kpis/events.yaml")
        return
    if not matched:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


# The same validator with RE2 patterns: a catalog pattern like `^(a+)+$` cannot hang a check.
Re2Validator = validators.extend(Draft202012Validator, {"pattern": _re2_pattern})


@dataclass(frozen=True)
class Problem:
    kind: str  # unknown_event, missing_required, wrong_type, not_in_enum, pattern_mismatch, out_of_range,
    # too_long, too_many_params, too_many_events, bad_name, pii_suspect, no_client_id, invalid_json,
    # not_an_event, unknown_param (warning), not_in_plan (warning)
    message: str
    param: str = ""
    level: str = "error"

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "level": self.level, "param": self.param, "message": self.message}


@dataclass(frozen=True)
class EventResult:
    """One event (or one unreadable line, with `event` None) and what is wrong with it."""

    line: int
    index: int | None  # position in a Measurement Protocol payload's `events`
    source: str  # measurement_protocol | datalayer | gtag | unreadable
    event: str | None
    problems: tuple[Problem, ...] = ()

    @property
    def valid(self) -> bool:
        return not any(p.level == "error" for p in self.problems)

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "index": self.index, "source": self.source, "event": self.event,
                "valid": self.valid, "problems": [p.to_dict() for p in self.problems]}


@dataclass
class CheckReport:
    file: str
    results: list[EventResult] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, why): blank, ecommerce clears, …

    @property
    def events(self) -> list[EventResult]:
        return [r for r in self.results if r.event is not None]

    @property
    def unreadable(self) -> list[EventResult]:
        return [r for r in self.results if r.event is None]

    @property
    def valid(self) -> int:
        return sum(r.valid for r in self.events)

    @property
    def invalid(self) -> int:
        return len(self.events) - self.valid

    @property
    def ok(self) -> bool:
        return not self.unreadable and self.invalid == 0

    def summary(self) -> str:
        n = len(self.events)
        text = f"{n} event{'s' if n != 1 else ''} checked: {self.valid} valid, {self.invalid} invalid"
        if self.unreadable:
            u = len(self.unreadable)
            text += f"; {u} line{'s' if u != 1 else ''} could not be read"
        if self.skipped:
            text += f"; {len(self.skipped)} line{'s' if len(self.skipped) != 1 else ''} skipped (not events)"
        return ("✓ " if self.ok else "✗ ") + text + "."

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "events": len(self.events), "valid": self.valid, "invalid": self.invalid,
                "unreadable_lines": len(self.unreadable), "skipped_lines": len(self.skipped),
                "results": [r.to_dict() for r in self.results]}


@dataclass(frozen=True)
class _Candidate:
    index: int | None
    source: str
    name: Any
    params: Any
    problems: tuple[Problem, ...] = ()
    ecommerce_wrapped: bool | None = None  # dataLayer: were the params under `ecommerce`?


class EventChecker:
    """Validates events against a spec; build once, check many lines."""

    def __init__(self, spec: SpecModel, catalog: KpiCatalog):
        self.spec = spec
        self.known = {e.name: e for e in spec.events}
        self.collected_by_ga4 = {n for n, e in catalog.events.items()
                                 if e.builtin and n in limits.RESERVED_EVENT_NAMES}
        self._validators: dict[str, Any] = {}

    def validator(self, e: EventEntry) -> Any:
        if e.name not in self._validators:
            self._validators[e.name] = Re2Validator(params_schema(e))
        return self._validators[e.name]

    # lines → candidates

    def check_lines(self, lines: Iterable[str | bytes], file: str) -> CheckReport:
        report = CheckReport(file)
        for number, raw in enumerate(lines, start=1):
            if isinstance(raw, bytes):
                try:
                    raw = raw.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError as exc:
                    report.results.append(_unreadable(number, "invalid_json", f"not UTF-8 text (byte "
                                                      f"0x{raw[exc.start]:02x} at column {exc.start + 1})."))
                    continue
            text = raw.rstrip("\r\n")
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                report.results.append(_unreadable(number, "invalid_json",
                                                  f"not valid JSON: {exc.msg} (column {exc.colno})."))
                continue
            except RecursionError:
                report.results.append(_unreadable(number, "invalid_json", "the JSON is nested too deeply."))
                continue
            candidates = _candidates(obj)
            if isinstance(candidates, str):
                if candidates.startswith("skip:"):
                    report.skipped.append((number, candidates[5:]))
                else:
                    report.results.append(_unreadable(number, "not_an_event", candidates))
                continue
            for c in candidates:
                report.results.append(self.check_event(number, c))
        return report

    # one event

    def check_event(self, line: int, c: _Candidate) -> EventResult:
        problems = list(c.problems)
        if not isinstance(c.name, str) or not c.name:
            problems.append(Problem("bad_name", "the event has no name (a non-empty string)."))
            return EventResult(line, c.index, c.source, "" if c.name is None else str(c.name), tuple(problems))
        name = c.name
        bad = limits.name_problem(name)
        if bad:
            problems.append(Problem("bad_name", f"GA4 drops the event `{name}`: {bad}."))
        entry = self.known.get(name)
        if entry is None:
            if name in self.collected_by_ga4:
                problems.append(Problem("not_in_plan", f"`{name}` is collected by GA4 itself and no KPI needs it; "
                                        "not checked.", level="warning"))
            elif not bad:
                problems.append(Problem(
                    "unknown_event", f"unknown event `{name}`: no KPI needs it and kpis/events.yaml does not "
                    f"declare it.{did_you_mean(name, self.known)}"))
            return EventResult(line, c.index, c.source, name, tuple(problems))
        if c.params is None:
            params: Any = {}
        else:
            params = c.params
        if not isinstance(params, dict):
            problems.append(Problem("wrong_type", f"the params of `{name}` must be an object, not {_describe(params)}."))
            return EventResult(line, c.index, c.source, name, tuple(problems))
        if c.source == "datalayer" and entry.ecommerce and c.ecommerce_wrapped is False:
            problems.append(Problem("missing_required", f"`{name}` is an ecommerce event: push its params under "
                                    "`ecommerce` (after `dataLayer.push({ ecommerce: null })`)."))
        problems += self.schema_problems(entry, params)
        problems += _unknown_params(entry, params)
        problems += _pii_problems(entry, params)
        return EventResult(line, c.index, c.source, name, tuple(problems))

    def schema_problems(self, entry: EventEntry, params: dict[str, Any]) -> Iterator[Problem]:
        errors = sorted(self.validator(entry).iter_errors(params),
                        key=lambda e: (list(map(str, e.absolute_path)), e.validator))
        seen: set[tuple[str, str]] = set()
        for err in errors:
            for problem in _explain(entry, err):
                if (problem.kind, problem.message) not in seen:  # `required` reports each name once per error
                    seen.add((problem.kind, problem.message))
                    yield problem


def _unreadable(line: int, kind: str, message: str) -> EventResult:
    return EventResult(line, None, "unreadable", None, (Problem(kind, message),))


def _candidates(obj: Any) -> list[_Candidate] | str:
    """The events on one line, or a string: `skip:<why>` for pushes that are not events, else the error."""
    if isinstance(obj, list):
        if len(obj) >= 2 and obj[0] == "event":
            return [_Candidate(None, "gtag", obj[1], obj[2] if len(obj) > 2 else {})]
        return "a JSON array that is not a gtag call `[\"event\", name, params]`."
    if not isinstance(obj, dict):
        return f"expected a JSON object (a Measurement Protocol payload or a dataLayer push), got {_describe(obj)}."
    if "events" in obj:
        return _mp_candidates(obj)
    if obj.get("0") == "event" and "1" in obj:  # JSON.stringify(arguments) of a gtag call
        return [_Candidate(None, "gtag", obj["1"], obj.get("2", {}))]
    if "event" in obj:
        return _datalayer_candidate(obj)
    if "name" in obj:
        return [_Candidate(None, "measurement_protocol", obj["name"], obj.get("params", {}))]
    if set(obj) == {"ecommerce"} and obj["ecommerce"] is None:
        return "skip:ecommerce clear"
    return "skip:a dataLayer push without `event` (not an event)"


def _mp_candidates(obj: dict[str, Any]) -> list[_Candidate] | str:
    events = obj["events"]
    if not isinstance(events, list):
        return f"`events` must be a list of {{name, params}} objects, not {_describe(events)}."
    if not events:
        return "the Measurement Protocol payload has an empty `events` list."
    shared: list[Problem] = []
    if not any(isinstance(obj.get(k), str) and obj.get(k) for k in ("client_id", "app_instance_id")):
        shared.append(Problem("no_client_id", "the payload has no `client_id` (web) or `app_instance_id` (app): "
                              "GA4 drops the whole request."))
    if len(events) > MP_EVENTS_MAX:
        shared.append(Problem("too_many_events", f"the payload has {len(events)} events; GA4 accepts at most "
                              f"{MP_EVENTS_MAX} per request."))
    out = []
    for i, ev in enumerate(events, start=1):
        if not isinstance(ev, dict):
            out.append(_Candidate(i, "measurement_protocol", None, None,
                                  (*shared, Problem("not_an_event", f"event {i} is {_describe(ev)}, not an object."))))
            continue
        out.append(_Candidate(i, "measurement_protocol", ev.get("name"), ev.get("params", {}), tuple(shared)))
    return out


def _datalayer_candidate(obj: dict[str, Any]) -> list[_Candidate] | str:
    name = obj["event"]
    if isinstance(name, str) and name.startswith("gtm."):
        return f"skip:Tag Manager's own `{name}` event"
    ecommerce = obj.get("ecommerce")
    if isinstance(ecommerce, dict):
        return [_Candidate(None, "datalayer", name, ecommerce, ecommerce_wrapped=True)]
    rest = {k: v for k, v in obj.items() if k not in GTM_KEYS and not k.startswith("gtm.")}
    return [_Candidate(None, "datalayer", name, rest, ecommerce_wrapped=False)]


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {json.dumps(shown, ensure_ascii=False)}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    return "an object"


_TYPE_WORDS = {"string": "a string", "integer": "a whole number", "number": "a number", "boolean": "true or false",
               "array": "a list", "object": "an object"}


def _where(path: list[Any]) -> str:
    """`value`, `items[1].price`."""
    out = ""
    for part in path:
        out += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "params"


def _explain(entry: EventEntry, err: ValidationError) -> Iterator[Problem]:
    path = list(err.absolute_path)
    where = _where(path)
    param = str(path[0]) if path else ""
    v, inst = err.validator, err.instance
    schema_path = list(err.relative_schema_path)
    if "propertyNames" in schema_path or "propertyNames" in list(err.absolute_schema_path):
        why = limits.name_problem(str(inst)) or "it starts with a reserved prefix (_, firebase_, ga_, google_, gtag.)"
        yield Problem("bad_name", f"GA4 drops the param `{inst}`: {why}.", str(inst))
    elif v == "required":
        missing = [r for r in err.validator_value if isinstance(inst, dict) and r not in inst]
        for name in missing:
            yield Problem("missing_required", f"missing required param `{name}`.", name)
    elif v == "anyOf" and path and path[0] == "items":
        yield Problem("missing_required", f"`{where}` needs an `item_id` or an `item_name`.", param)
    elif v == "type":
        expected = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
        words = " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in expected)
        yield Problem("wrong_type", f"`{where}` should be {words}, but is {_describe(inst)}.", param)
    elif v == "enum":
        allowed = ", ".join(map(str, err.validator_value))
        hint = did_you_mean(str(inst), [str(x) for x in err.validator_value])
        yield Problem("not_in_enum", f"`{where}` is {_describe(inst)}; allowed: {allowed}.{hint}", param)
    elif v == "pattern":
        yield Problem("pattern_mismatch", f"`{where}` is {_describe(inst)}, which does not match "
                      f"`{err.validator_value}`.", param)
    elif v == "maxLength":
        yield Problem("too_long", f"`{where}` is {len(inst)} characters long; GA4 keeps at most "
                      f"{err.validator_value}.", param)
    elif v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        word = {"minimum": "at least", "maximum": "at most", "exclusiveMinimum": "more than",
                "exclusiveMaximum": "less than"}[v]
        yield Problem("out_of_range", f"`{where}` is {inst}; it must be {word} {err.validator_value}.", param)
    elif v == "minItems":
        yield Problem("missing_required", f"`{where}` is empty; send at least one item.", param)
    elif v == "maxItems":
        yield Problem("out_of_range", f"`{where}` has {len(inst)} items; GA4 keeps at most {err.validator_value}.",
                      param)
    elif v == "maxProperties":
        yield Problem("too_many_params", f"the event has {len(inst)} params; GA4 keeps at most "
                      f"{err.validator_value} per event.")
    else:
        yield Problem("invalid", f"`{where}`: {err.message[:200]}", param)


def _unknown_params(entry: EventEntry, params: dict[str, Any]) -> Iterator[Problem]:
    declared = {p.name for p in entry.params}
    unknown = sorted(n for n in set(params) - declared - GA4_DEFAULT_PARAMS
                     if isinstance(n, str) and not limits.name_problem(n))  # bad names are reported already
    if len(unknown) == 1:
        yield Problem("unknown_param", f"param `{unknown[0]}` is not in the spec of `{entry.name}`: GA4 collects "
                      f"it, but no KPI reads it.{did_you_mean(unknown[0], declared)}", unknown[0], "warning")
    elif unknown:
        shown = ", ".join(f"`{n}`" for n in unknown[:8]) + (f" and {len(unknown) - 8} more" if len(unknown) > 8 else "")
        yield Problem("unknown_param", f"params {shown} are not in the spec of `{entry.name}`: GA4 collects them, "
                      "but no KPI reads them.", unknown[0], "warning")


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value, start=1):
            yield from _strings(v, f"{path}[{i}]")


def _pii_problems(entry: EventEntry, params: dict[str, Any]) -> Iterator[Problem]:
    declared_pii = {p.name: p.pii for p in entry.params if p.pii}
    for name, kind in sorted(declared_pii.items()):
        if params.get(name) not in (None, ""):
            yield Problem("pii_suspect", f"`{name}` is declared as personal data ({kind}); GA4's policy forbids "
                          "sending it. Remove it, or send a non-identifying value.", name)
    for where, text in _strings(params, ""):
        top = where.split(".")[0].split("[")[0]
        if top in declared_pii:
            continue
        looks = personal_kind(text)  # the warehouse's own definition (pii_values.py)
        if looks == "email":
            yield Problem("pii_suspect", f"`{where}` looks like it contains an e-mail address; GA4's policy "
                          "forbids personal data. Strip it before sending.", top)
        elif looks == "phone":
            yield Problem("pii_suspect", f"`{where}` looks like a phone number; GA4's policy forbids personal "
                          "data.", top)


def check_events(lines: Iterable[str | bytes], file: str, spec: SpecModel, catalog: KpiCatalog) -> CheckReport:
    """Check every line; never raises on bad input."""
    return EventChecker(spec, catalog).check_lines(lines, file)


def format_text(report: CheckReport) -> list[str]:
    """`FILE:LINE  event  ✗ problem` for every event with a problem, then the summary.

    Events of one payload with the same problems (e.g. 26 events in a request) are shown once."""
    out: list[str] = []
    groups: list[list[EventResult]] = []
    for r in report.results:
        if not r.problems:
            continue
        last = groups[-1][-1] if groups else None
        if last is not None and (last.line, last.event, last.problems) == (r.line, r.event, r.problems) \
                and r.index is not None and last.index == r.index - 1:
            groups[-1].append(r)
        else:
            groups.append([r])
    sources = {"measurement_protocol": " [Measurement Protocol]", "datalayer": " [dataLayer]", "gtag": " [gtag]"}
    for group in groups:
        r = group[0]
        where = f"{report.file}:{r.line}"
        if r.index is not None:
            where += f" (event {r.index})" if len(group) == 1 else f" (events {r.index}–{group[-1].index})"
        label = f"  {r.event}{sources.get(r.source, '')}" if r.event else ""
        out.append(where + label)
        for p in r.problems:
            out.append(f"    {'✗' if p.level == 'error' else '!'} {p.message}")
    out.append(report.summary())
    return out
