"""Targets and thresholds that make sense together: right side, right order, right scale."""

from __future__ import annotations

import math
from collections.abc import Iterator

from ..issues import Issue, Level, SourceLocation
from ..models.target import PeriodTarget, TargetStep
from ..parse.catalog import KpiCatalog, SourcedKpi
from .base import Rule


def _num(value: float) -> str:
    return f"{value:g}"


def _target_values(sk: SourcedKpi) -> list[tuple[float, str, SourceLocation]]:
    """(value, how to name it, location) for the target: a plain number or each step."""
    target = sk.kpi.target
    if target is None:
        return []
    if isinstance(target, PeriodTarget):
        if target.steps is not None:
            return [(s.value, f"the target from {s.from_}", sk.locate("target", "steps", i, "value"))
                    for i, s in enumerate(target.steps)]
        return [] if target.value is None else [(target.value, "the target", sk.locate("target", "value"))]
    if isinstance(target, list):
        return [(s.value, f"the target from {s.from_}", sk.locate("target", i, "value")) for i, s in enumerate(target)]
    return [(target, "the target", sk.locate("target"))]


def _steps(sk: SourcedKpi) -> tuple[list[TargetStep], tuple[str, ...]]:
    """The target's dated steps and the key path to their list (`target` or `target.steps`)."""
    target = sk.kpi.target
    if isinstance(target, PeriodTarget) and target.steps is not None:
        return list(target.steps), ("target", "steps")
    if isinstance(target, list):
        return list(target), ("target",)
    return [], ()


class CurrencyFormatRule(Rule):
    code = "KB601"
    title = "currency KPIs name their currency"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for sk in catalog.kpis.values():
            if sk.kpi.format == "currency" and sk.kpi.currency is None:
                yield self.issue("`format: currency` needs the currency the amounts are in.", sk.locate("format"),
                                 "Add `currency: EUR` (or the ISO 4217 code your shop reports in, e.g. `USD`).")


class UnusedCurrencyRule(Rule):
    code = "KB602"
    level = Level.WARNING
    title = "`currency:` goes with `format: currency`"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for sk in catalog.kpis.values():
            if sk.kpi.currency is not None and sk.kpi.format != "currency":
                yield self.issue(
                    f"`currency: {sk.kpi.currency}` has no effect because `format` is `{sk.kpi.format}`.",
                    sk.locate("currency"), "Set `format: currency` to show amounts, or remove `currency:`.")


_SIDES = {"up": ("below", "above"), "down": ("above", "below")}


class ThresholdSideRule(Rule):
    code = "KB603"
    title = "thresholds are on the side the KPI can go wrong"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for sk in catalog.kpis.values():
            th = sk.kpi.thresholds
            if th is None:
                continue
            right, wrong = _SIDES[sk.kpi.direction]
            better = "higher" if sk.kpi.direction == "up" else "lower"
            for level in ("warn", "critical"):
                key = f"{level}_{wrong}"
                if getattr(th, key) is not None:
                    yield self.issue(
                        f"`{key}` does not fit a KPI with `direction: {sk.kpi.direction}`: {better} is better, so "
                        f"the status should turn amber or red when the value falls {right} a level. "
                        f"Did you mean `{level}_{right}`?", sk.locate("thresholds", key),
                        f"Write `{level}_{right}:` instead, or set `direction: {'down' if sk.kpi.direction == 'up' else 'up'}` "
                        f"if {'lower' if better == 'higher' else 'higher'} is better for this KPI.")


class ThresholdOrderRule(Rule):
    code = "KB604"
    title = "critical comes after warn, so the amber band is not empty"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for sk in catalog.kpis.values():
            th = sk.kpi.thresholds
            if th is None:
                continue
            warn, critical = th.for_direction(sk.kpi.direction)
            if warn is None or critical is None:
                continue
            side = _SIDES[sk.kpi.direction][0]
            ok = critical < warn if sk.kpi.direction == "up" else critical > warn
            if ok or math.isnan(warn) or math.isnan(critical):
                continue
            relation = "lower" if sk.kpi.direction == "up" else "higher"
            swap = (f"Swap the two values (`critical_{side}: {_num(warn)}`, `warn_{side}: {_num(critical)}`), or pick "
                    "new ones. " if warn != critical else "")
            yield self.issue(
                f"`critical_{side}` ({_num(critical)}) must be {relation} than `warn_{side}` ({_num(warn)}); otherwise "
                "the status jumps to red without an amber warning first.", sk.locate("thresholds", f"critical_{side}"),
                swap + _band_example(sk.kpi.direction, side))


class TargetBandRule(Rule):
    code = "KB605"
    title = "meeting the target shows green"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for sk in catalog.kpis.values():
            th = sk.kpi.thresholds
            if th is None:
                continue
            warn, critical = th.for_direction(sk.kpi.direction)
            side = _SIDES[sk.kpi.direction][0]
            level, limit = ("warn", warn) if warn is not None else ("critical", critical)
            if limit is None:
                continue
            colour = "amber" if level == "warn" else "red"
            for value, label, at in _target_values(sk):
                bad = value < limit if sk.kpi.direction == "up" else value > limit
                if bad:
                    yield self.issue(
                        f"{label} ({_num(value)}) is {side} `{level}_{side}` ({_num(limit)}): the KPI would show "
                        f"{colour} even when it meets its target.", at,
                        f"Set `{level}_{side}` to {'at most' if side == 'below' else 'at least'} the target, or change the "
                        f"target. {_band_example(sk.kpi.direction, side)}")
                    break


def _band_example(direction: str, side: str) -> str:
    if direction == "up":
        return "For a KPI that should go up: critical_below < warn_below ≤ target (e.g. 0.022, 0.028, 0.03)."
    return "For a KPI that should go down: critical_above > warn_above ≥ target (e.g. 0.5, 0.4, 0.35)."


class PercentScaleRule(Rule):
    code = "KB606"
    level = Level.WARNING
    title = "percent targets are written as shares (3 % is 0.03)"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for sk in catalog.kpis.values():
            if sk.kpi.format != "percent":
                continue
            from .shares import share_unit  # a share's scale is KB609's error, not this warning

            if share_unit(sk) is not None:
                continue
            values = [(v, label, at) for v, label, at in _target_values(sk)]
            th = sk.kpi.thresholds
            if th is not None:
                for key in ("warn_below", "critical_below", "warn_above", "critical_above"):
                    v = getattr(th, key)
                    if v is not None:
                        values.append((v, f"`{key}`", sk.locate("thresholds", key)))
            big = [(v, label, at) for v, label, at in values if v > 1]
            if not big:
                continue
            v, label, at = big[0]
            yield self.issue(
                f"{label} is {_num(v)}, which as a percent is {_num(v * 100)} %. A `percent` KPI is a share: "
                f"{_num(v)} % is written `{_num(v / 100)}`.", at,
                "Divide the target and thresholds by 100 (e.g. `0.03` for 3 %); if it really can exceed 100 %, "
                "ignore this warning.")


class DuplicateTargetDateRule(Rule):
    code = "KB607"
    title = "each target step has its own date"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for sk in catalog.kpis.values():
            steps, at = _steps(sk)
            seen: dict[object, int] = {}
            for i, step in enumerate(steps):
                if step.from_ in seen:
                    yield self.issue(
                        f"two target steps start on {step.from_} (items {seen[step.from_] + 1} and {i + 1}), so it is "
                        "unclear which value holds.", sk.locate(*at, i, "from"),
                        "Keep one value per date: a step holds from its date until the next step's date.")
                else:
                    seen[step.from_] = i


class PeriodTargetShapeRule(Rule):
    code = "KB608"
    title = "a target per period has a value or steps, not both"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for sk in catalog.kpis.values():
            target = sk.kpi.target
            if not isinstance(target, PeriodTarget):
                continue
            example = f"`target: {{per: {target.per}, value: 36000}}`"
            if target.value is None and target.steps is None:
                yield self.issue(f"`target: {{per: {target.per}}}` says what period the target is for, but not "
                                 "the target itself.", sk.locate("target", "per"),
                                 f"Add `value:` ({example}), or `steps:` for targets that change over time.")
            elif target.value is not None and target.steps is not None:
                yield self.issue("`target` has both `value` and `steps`, so it is unclear which holds.",
                                 sk.locate("target", "steps"),
                                 f"Keep one: {example}, or `steps:` with one `{{from: YYYY-MM-DD, value: …}}` "
                                 "per change.")
            elif target.steps is not None and not target.steps:
                yield self.issue("`target.steps` is empty.", sk.locate("target", "steps"),
                                 "Add at least one `{from: YYYY-MM-DD, value: …}` step, or write `value:` instead.")
