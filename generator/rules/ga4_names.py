"""GA4's naming rules: what GA4 would silently drop (../shared/reference/ga4.md §1.1, §1.2)."""

from __future__ import annotations

from collections.abc import Iterator

from ..ga4.limits import (
    RESERVED_EVENT_NAMES,
    RESERVED_EVENT_PREFIXES,
    RESERVED_PARAM_PREFIXES,
    RESERVED_USER_PROPERTY_NAMES,
    RESERVED_USER_PROPERTY_PREFIXES,
    USER_PROPERTY_NAME_MAX,
    name_problem,
    safe_name,
)
from ..issues import Issue
from ..parse.catalog import KpiCatalog
from .base import Rule
from .declarations import declared_events, declared_params, declared_user_properties


def _without_prefix(name: str, prefixes: tuple[str, ...]) -> str:
    prefix = next(p for p in prefixes if name.startswith(p))
    rest = name[len(prefix):]
    return rest if rest and name_problem(rest) is None else f"site_{rest}".rstrip("_")


class EventNameRule(Rule):
    code = "KB401"
    title = "event names follow GA4's naming rules"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for event in declared_events(catalog):
            problem = name_problem(event.name)
            if problem:
                yield self.issue(
                    f"GA4 would drop the event `{event.name}`: {problem}.", event.locate(),
                    f"Rename it, e.g. to `{safe_name(event.name)}` (letters, digits and `_`, starting with a "
                    "letter, at most 40 characters), and use the new name in the KPI files.")


class ParamNameRule(Rule):
    code = "KB402"
    title = "param names follow GA4's naming rules"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for param in declared_params(catalog):
            problem = name_problem(param.name)
            if problem:
                yield self.issue(
                    f"GA4 would drop the param `{param.name}` of `{param.event.name}`: {problem}.", param.locate(),
                    f"Rename it, e.g. to `{safe_name(param.name)}` (letters, digits and `_`, starting with a "
                    "letter, at most 40 characters).")


class ReservedEventNameRule(Rule):
    code = "KB403"
    title = "custom events do not use names GA4 reserves"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for event in declared_events(catalog):
            if not event.builtin and event.name in RESERVED_EVENT_NAMES:
                yield self.issue(
                    f"`{event.name}` is a name GA4 reserves for its own events, so GA4 would drop yours.",
                    event.locate(),
                    f"Give it a more specific name, e.g. `site_{event.name}` or one that says what happened "
                    "(`checkout_error` rather than `error`).")


class ReservedEventPrefixRule(Rule):
    code = "KB404"
    title = "custom event names do not start with a reserved prefix"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for event in declared_events(catalog):
            name = event.name
            if (event.builtin or name in RESERVED_EVENT_NAMES or name_problem(name)
                    or not name.startswith(RESERVED_EVENT_PREFIXES)):
                continue
            yield self.issue(
                f"the event `{name}` starts with a prefix GA4 reserves "
                f"({', '.join(f'`{p}`' for p in RESERVED_EVENT_PREFIXES)}), so GA4 would drop it.",
                event.locate(), f"Rename it without the prefix, e.g. `{_without_prefix(name, RESERVED_EVENT_PREFIXES)}`.")


class ReservedParamPrefixRule(Rule):
    code = "KB405"
    title = "param names do not start with a reserved prefix"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for param in declared_params(catalog):
            if name_problem(param.name) or not param.name.startswith(RESERVED_PARAM_PREFIXES):
                continue
            yield self.issue(
                f"the param `{param.name}` of `{param.event.name}` starts with a prefix GA4 reserves "
                f"({', '.join(f'`{p}`' for p in RESERVED_PARAM_PREFIXES if p[0].isalpha())}), so GA4 would drop it.",
                param.locate(), f"Rename it without the prefix, e.g. `{_without_prefix(param.name, RESERVED_PARAM_PREFIXES)}`.")


class UserPropertyNameRule(Rule):
    code = "KB406"
    title = "user property names follow GA4's rules"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for prop in declared_user_properties(catalog):
            problem = name_problem(prop.name, USER_PROPERTY_NAME_MAX)
            if problem:
                yield self.issue(
                    f"GA4 would drop the user property `{prop.name}`: {problem}.", prop.locate(),
                    f"Rename it, e.g. to `{safe_name(prop.name)[:USER_PROPERTY_NAME_MAX]}` (letters, digits and `_`, "
                    f"starting with a letter, at most {USER_PROPERTY_NAME_MAX} characters).")


class ReservedUserPropertyRule(Rule):
    code = "KB407"
    title = "user properties do not use reserved names or prefixes"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for prop in declared_user_properties(catalog):
            name = prop.name
            if name_problem(name, USER_PROPERTY_NAME_MAX):
                continue
            if name in RESERVED_USER_PROPERTY_NAMES:
                why = "is a name GA4 reserves"
            elif name.startswith(RESERVED_USER_PROPERTY_PREFIXES):
                why = "starts with a prefix GA4 reserves (`firebase_`, `ga_`, `google_`)"
            else:
                continue
            better = (f"site_{name}" if name in RESERVED_USER_PROPERTY_NAMES
                      else _without_prefix(name, RESERVED_USER_PROPERTY_PREFIXES))[:USER_PROPERTY_NAME_MAX]
            hint = ("GA4 sets the User-ID itself (the `user_id` field of the tag, not a user property); remove it."
                    if name == "user_id" else f"Rename it, e.g. to `{better}`.")
            yield self.issue(f"the user property `{name}` {why}, so GA4 would drop it.", prop.locate(), hint)
