"""Validation rules: small classes, one concern each, listed once in ALL_RULES."""

from __future__ import annotations

from .base import Rule, run_rules
from .references import (
    DerivedCycleRule,
    FormulaRule,
    KpiFileNameRule,
    NumericParamRule,
    ParamBreakdownRule,
    PopulationParamFilterRule,
    UnknownDimensionRule,
    UnknownEventRule,
    UnknownParamRule,
)

ALL_RULES: tuple[Rule, ...] = (
    UnknownEventRule(),
    UnknownParamRule(),
    NumericParamRule(),
    UnknownDimensionRule(),
    PopulationParamFilterRule(),
    ParamBreakdownRule(),
    FormulaRule(),
    DerivedCycleRule(),
    KpiFileNameRule(),
)

__all__ = ["ALL_RULES", "Rule", "run_rules"]
