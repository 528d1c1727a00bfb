"""GA4's recommended events keep their documented shape when the catalog redeclares them (ga4.md §3)."""

from __future__ import annotations

from collections.abc import Iterator

from ..issues import Issue
from ..parse.catalog import KpiCatalog, builtin_events
from .base import Rule
from .declarations import declared_params


class RequiredBuiltinParamRule(Rule):
    code = "KB431"
    title = "GA4's required params of recommended events stay required"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        builtins = builtin_events()
        for param in declared_params(catalog):
            base = builtins.get(param.event.name)
            documented = base.params.get(param.name) if base else None
            if documented is None or not documented.required or param.spec.required:
                continue
            at = param.locate("required") if "required" in param.spec.model_fields_set else param.locate()
            yield self.issue(
                f"GA4 requires `{param.name}` on `{param.event.name}`, but here it is optional; without it GA4's "
                f"reports for `{param.event.name}` are wrong or empty.", at,
                "Add `required: true`, or remove this param from the catalog: GA4's own definition applies "
                "when you do not redeclare it.")


class BuiltinParamTypeRule(Rule):
    code = "KB432"
    title = "GA4's documented params keep their type"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        builtins = builtin_events()
        for param in declared_params(catalog):
            base = builtins.get(param.event.name)
            documented = base.params.get(param.name) if base else None
            if documented is None or documented.type == param.spec.type:
                continue
            yield self.issue(
                f"GA4 defines `{param.name}` of `{param.event.name}` as `{documented.type}`, but here it is "
                f"`{param.spec.type}`; GA4's reports would not read it.", param.locate("type"),
                f"Use `type: {documented.type}`, or send your value under a param name of its own.")
