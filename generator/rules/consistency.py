"""One param name means one thing: GA4 registers a custom definition per name, not per event."""

from __future__ import annotations

from collections.abc import Iterator

from ..issues import Issue
from ..parse.catalog import KpiCatalog, builtin_events
from .base import Rule
from .declarations import declared_params

_FAMILY = {"integer": "number", "number": "number"}  # both land in a numeric custom metric


def _family(type_: str) -> str:
    return _FAMILY.get(type_, type_)


class ParamTypeConsistencyRule(Rule):
    code = "KB411"
    title = "one param name has one type across events"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        types: dict[str, dict[str, str]] = {}
        for name, event in catalog.events.items():
            for pname, spec in event.spec.params.items():
                types.setdefault(pname, {})[name] = spec.type
        builtins = builtin_events()
        for param in declared_params(catalog):
            base = builtins.get(param.event.name)
            if base is not None and param.name in base.params:
                continue  # a redeclared GA4 param: BuiltinParamTypeRule (KB432) says it
            mine = _family(param.spec.type)
            others = sorted(e for e, t in types[param.name].items() if e != param.event.name and _family(t) != mine)
            if not others:
                continue
            other_type = types[param.name][others[0]]
            shown = ", ".join(f"`{e}`" for e in others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
            yield self.issue(
                f"`{param.name}` is `{param.spec.type}` here but `{other_type}` on {shown}; GA4 registers one custom "
                "definition per param name, so its type must be the same on every event.", param.locate("type"),
                f"Use `type: {other_type}` here, or give this param its own name (e.g. `{param.event.name}_{param.name}`).")
