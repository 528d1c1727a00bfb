"""A KPI's `alerts:` block: shares written as shares, amounts that can be met."""

from __future__ import annotations

from collections.abc import Iterator

from ..issues import Issue, Level
from ..parse.catalog import KpiCatalog
from .base import Rule

_SHARES = ("relative_change", "max_violation_rate")


class AlertShareRule(Rule):
    code = "KB620"
    title = "alert shares are written as shares (20 % is 0.2)"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for sk in catalog.kpis.values():
            alerts = sk.kpi.alerts
            if alerts is None:
                continue
            for key in _SHARES:
                value = getattr(alerts, key)
                if value is None or 0 < value <= 1 or (key == "max_violation_rate" and value == 0):
                    continue
                if value > 1:
                    hint = f"Did you mean `{key}: {value / 100:g}` ({value:g} %)?"
                    yield self.issue(f"`{key}: {value:g}` would mean {value * 100:g} %. {hint}",
                                     sk.locate("alerts", key), f"Write a share between 0 and 1: {hint}")
                else:
                    yield self.issue(f"`{key}` must be more than 0 (it is {value:g}).", sk.locate("alerts", key),
                                     f"Write a share between 0 and 1, e.g. `{key}: 0.2` for 20 %.")


class AlertAmountRule(Rule):
    code = "KB621"
    title = "an alert's absolute change is not negative"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for sk in catalog.kpis.values():
            alerts = sk.kpi.alerts
            if alerts is None or alerts.absolute_change is None or alerts.absolute_change >= 0:
                continue
            yield self.issue(
                f"`absolute_change: {alerts.absolute_change:g}` is negative; it is the size of a change, in either "
                "direction.", sk.locate("alerts", "absolute_change"),
                f"Write `absolute_change: {-alerts.absolute_change:g}`: the KPI's `direction` already says which way "
                "is bad.")


class AlertPercentScaleRule(Rule):
    code = "KB622"
    level = Level.WARNING
    title = "a percent KPI's absolute change is in shares (half a point is 0.005)"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for sk in catalog.kpis.values():
            alerts = sk.kpi.alerts
            if sk.kpi.format != "percent" or alerts is None or alerts.absolute_change is None:
                continue
            if alerts.absolute_change >= 1:
                value = alerts.absolute_change
                yield self.issue(
                    f"`absolute_change: {value:g}` is {value * 100:g} percentage points for this percent KPI, "
                    "so no change could reach it.", sk.locate("alerts", "absolute_change"),
                    f"Did you mean `absolute_change: {value / 100:g}` ({value:g} points)?")
