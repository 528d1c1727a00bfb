"""GA4's limits: params per event, value lengths, user properties, custom-definition quotas (ga4.md §1, §2)."""

from __future__ import annotations

from collections.abc import Iterator

from ..ga4.limits import (
    CUSTOM_METRICS_MAX,
    ENUM_VALUE_MAX,
    EVENT_SCOPED_DIMENSIONS_MAX,
    LONG_PARAM_VALUE_MAX,
    PARAMS_PER_EVENT,
    RESERVED_EVENT_NAMES,
    RESERVED_PARAM_NAMES,
    USER_PROPERTIES_MAX,
    USER_PROPERTY_VALUE_MAX,
)
from ..issues import Issue, SourceLocation
from ..parse.catalog import KpiCatalog
from ..parse.measures import param_uses
from ..spec.custom_definitions import STANDARD_PARAMS, required_custom_definitions
from ..spec.stamp import STAMP_PARAM
from .base import Rule
from .declarations import declared_events, declared_params, declared_user_properties


class ParamsPerEventRule(Rule):
    code = "KB421"
    title = f"an event has at most {PARAMS_PER_EVENT} params"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for event in declared_events(catalog):
            automatic = event.builtin and event.name in RESERVED_EVENT_NAMES
            stamped = not automatic and STAMP_PARAM not in event.spec.params  # `kb_spec` goes on every event
            count = len(event.spec.params) + stamped
            if count > PARAMS_PER_EVENT:
                with_builtin = " (counting GA4's documented ones)" if event.builtin else ""
                with_builtin += f" and the `{STAMP_PARAM}` spec stamp" if stamped else ""
                yield self.issue(
                    f"`{event.name}` has {count} params{with_builtin}; GA4 keeps at most {PARAMS_PER_EVENT} per "
                    "event and drops the rest.", event.locate("params"),
                    f"Remove {_count(count - PARAMS_PER_EVENT, 'param')} no KPI or report needs, or split the event "
                    "in two.")


class EnumValueLengthRule(Rule):
    code = "KB422"
    title = "allowed values fit GA4's value length limits"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for param in declared_params(catalog):
            limit = LONG_PARAM_VALUE_MAX.get(param.name, ENUM_VALUE_MAX)
            for i, value in enumerate(param.spec.enum or []):
                if isinstance(value, str) and len(value) > limit:
                    yield self.issue(
                        f"the allowed value `{value[:40]}…` of `{param.event.name}.{param.name}` is {len(value)} "
                        f"characters long; GA4 cuts param values after {limit}.", param.locate("enum", i),
                        f"Use a shorter code (at most {limit} characters), e.g. an abbreviation.")
        for prop in declared_user_properties(catalog):
            for i, value in enumerate(prop.spec.enum or []):
                if len(value) > USER_PROPERTY_VALUE_MAX:
                    yield self.issue(
                        f"the allowed value `{value[:40]}` of the user property `{prop.name}` is {len(value)} "
                        f"characters long; GA4 cuts user property values after {USER_PROPERTY_VALUE_MAX}.",
                        prop.locate("enum", i), f"Use a shorter code (at most {USER_PROPERTY_VALUE_MAX} characters).")


class UserPropertyCountRule(Rule):
    code = "KB423"
    title = f"at most {USER_PROPERTIES_MAX} user properties"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        props = list(declared_user_properties(catalog))
        if len(props) > USER_PROPERTIES_MAX:
            first_extra = props[USER_PROPERTIES_MAX]
            yield self.issue(
                f"{len(props)} user properties are declared; a GA4 property keeps at most {USER_PROPERTIES_MAX} "
                f"(from `{first_extra.name}` on, they would not be processed).", first_extra.locate(),
                f"Remove {_count(len(props) - USER_PROPERTIES_MAX, 'user property', 'user properties')} no KPI or "
                "report needs.")


def _count(n: int, one: str, many: str = "") -> str:
    return f"{n} {one}" if n == 1 else f"{n} {many or one + 's'}"


class _QuotaRule(Rule):
    kind: str
    limit: int
    what: str
    advice: str

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        needed = [d for d in required_custom_definitions(catalog) if d.kind == self.kind]
        if len(needed) <= self.limit:
            return
        # Count in the order the KPI files use them, so the issue points at the use that goes over.
        order: dict[str, SourceLocation] = {}
        names = {d.parameter for d in needed}
        for sk in catalog.active_kpis():
            for use in param_uses(sk.kpi):
                if use.param in names and use.param not in order:
                    order[use.param] = sk.locate(*use.path)
        over = list(order)[self.limit:]
        at = order[over[0]] if over else SourceLocation("kpis")
        yield self.issue(
            f"the KPIs need {len(needed)} {self.what}, but a standard GA4 property allows {self.limit}; "
            f"this one (`{over[0] if over else '?'}`) is number {self.limit + 1}.", at,
            f"{self.advice} GA4 360 properties allow 125.")


class CustomDimensionQuotaRule(_QuotaRule):
    code = "KB424"
    title = f"at most {EVENT_SCOPED_DIMENSIONS_MAX} event-scoped custom dimensions"
    kind, limit, what = "dimension", EVENT_SCOPED_DIMENSIONS_MAX, "event-scoped custom dimensions (params they filter or break down by)"
    advice = ("Drop param filters or breakdowns from less important KPIs, or reuse one param for several purposes "
              "(e.g. one `form_name` instead of one param per form).")


class CustomMetricQuotaRule(_QuotaRule):
    code = "KB425"
    title = f"at most {CUSTOM_METRICS_MAX} custom metrics"
    kind, limit, what = "metric", CUSTOM_METRICS_MAX, "custom metrics (params they add up or average)"
    advice = ("Drop sums or averages from less important KPIs, or add up one shared param (e.g. `value`, which "
              "needs no registration) instead of one param per product or form.")


_RENAMES = {"user_id": "account_ref", "customer_id": "account_ref", "userid": "account_ref", "customerid": "account_ref",
            "uid": "account_ref", "session_id": "visit_ref", "sessionid": "visit_ref", "sid": "visit_ref",
            "session_number": "visit_number"}


class ReservedCustomDefinitionRule(Rule):
    code = "KB426"
    title = "params GA4 reserves are not needed as custom definitions"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for sk in catalog.kpis.values():
            for use in param_uses(sk.kpi):
                if use.param in STANDARD_PARAMS or use.param not in RESERVED_PARAM_NAMES:
                    continue
                as_what = "custom metric" if use.role in ("sum", "average") else "custom dimension"
                doing = {"filter": "filter by", "breakdown": "break down by"}.get(use.role, f"{use.role} of")
                yield self.issue(
                    f"GA4 does not let `{use.param}` be registered as a {as_what}, so the KPI cannot {doing} it.",
                    sk.locate(*use.path),
                    f"Send the value under another param name (e.g. `{_RENAMES.get(use.param, use.param + '_value')}`), "
                    f"declare it on `{use.event}` in kpis/events.yaml, and use that name here.")

