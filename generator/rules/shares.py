"""A share (units over the same units: sessions with a purchase / sessions) cannot exceed 1.

A target of 30 on such a KPI almost always means 30 %: it is an error, not a warning, since the
dashboard would otherwise show "target 3000.0 %" in red forever.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..issues import Issue
from ..models.measure import SimpleMeasure
from ..parse.catalog import KpiCatalog, SourcedKpi
from .base import Rule
from .targets import _num, _target_values

# What each simple measure counts: a share divides a unit by the same unit.
_UNITS = {"users_with": "users", "users": "users", "new_users": "users",
          "sessions_with": "sessions", "sessions": "sessions", "engaged_sessions": "sessions"}


def share_unit(sk: SourcedKpi) -> str | None:
    """"users" or "sessions" when the KPI is a share of them (a conversion, or a ratio of like units)."""
    measure = sk.kpi.measure
    if measure.conversion is not None:
        return f"{measure.conversion.per}s"
    if measure.ratio is None:
        return None
    top, bottom = _unit(measure.ratio.numerator), _unit(measure.ratio.denominator)
    return top if top is not None and top == bottom else None


def _unit(measure: SimpleMeasure) -> str | None:
    return _UNITS.get(measure.kind)


class ShareTargetRule(Rule):
    code = "KB609"
    title = "a share's target and thresholds are between 0 and 1 (30 % is 0.3)"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for sk in catalog.kpis.values():
            unit = share_unit(sk)
            if unit is None:
                continue
            values = list(_target_values(sk))
            th = sk.kpi.thresholds
            if th is not None:
                for key in ("warn_below", "critical_below", "warn_above", "critical_above"):
                    v = getattr(th, key)
                    if v is not None:
                        values.append((v, f"`{key}`", sk.locate("thresholds", key)))
            for v, label, at in values:
                if v > 1:
                    yield self.issue(
                        f"{label} is {_num(v)}, but this KPI is a share of {unit} ({unit} divided by {unit}), "
                        f"which is at most 1 (100 %). {_num(v)} % is written `{_num(v / 100)}`.", at,
                        f"Write it as a share: `{_num(v / 100)}` for {_num(v)} %.")
