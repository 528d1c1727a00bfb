"""Validation rules: small classes, one concern each, listed once in ALL_RULES."""

from __future__ import annotations

from .alerts import AlertAmountRule, AlertPercentScaleRule, AlertShareRule
from .base import Rule, run_rules
from .codes import LOADER_AND_MODEL_CODES
from .cohorts import FirstEverSessionFilterRule
from .conformance import BuiltinParamTypeRule, RequiredBuiltinParamRule
from .consistency import ParamTypeConsistencyRule
from .coverage import HighCardinalityBreakdownRule, MissingTriggerRule, UnusedEventRule
from .data_values import DATA_CODES
from .ga4_limits import (
    CustomDimensionQuotaRule,
    CustomMetricQuotaRule,
    EnumValueLengthRule,
    ParamsPerEventRule,
    ReservedCustomDefinitionRule,
    UserPropertyCountRule,
)
from .ga4_names import (
    EventNameRule,
    ParamNameRule,
    ReservedEventNameRule,
    ReservedEventPrefixRule,
    ReservedParamPrefixRule,
    ReservedUserPropertyRule,
    UserPropertyNameRule,
)
from .numbers import FiniteNumberRule, FormulaNumberRule, Re2PatternRule, WindowLengthRule
from .pii import PiiForGa4Rule, UndeclaredPiiRule
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
from .shares import ShareTargetRule
from .targets import (
    CurrencyFormatRule,
    DuplicateTargetDateRule,
    PercentScaleRule,
    PeriodTargetShapeRule,
    TargetBandRule,
    ThresholdOrderRule,
    ThresholdSideRule,
    UnusedCurrencyRule,
)
from .vocabulary import Ga4VocabularyRule

ALL_RULES: tuple[Rule, ...] = (
    # KB3xx: names point at something
    UnknownEventRule(),
    UnknownParamRule(),
    NumericParamRule(),
    UnknownDimensionRule(),
    PopulationParamFilterRule(),
    ParamBreakdownRule(),
    FirstEverSessionFilterRule(),
    FormulaRule(),
    DerivedCycleRule(),
    # KB40x: GA4 naming rules
    EventNameRule(),
    ParamNameRule(),
    ReservedEventNameRule(),
    ReservedEventPrefixRule(),
    ReservedParamPrefixRule(),
    UserPropertyNameRule(),
    ReservedUserPropertyRule(),
    # KB41x: consistency across events
    ParamTypeConsistencyRule(),
    # KB42x: GA4 limits and custom-definition quotas
    ParamsPerEventRule(),
    EnumValueLengthRule(),
    UserPropertyCountRule(),
    CustomDimensionQuotaRule(),
    CustomMetricQuotaRule(),
    ReservedCustomDefinitionRule(),
    # KB43x: GA4's recommended events keep their shape
    RequiredBuiltinParamRule(),
    BuiltinParamTypeRule(),
    # KB44x: patterns run on RE2
    Re2PatternRule(),
    # KB5xx: personal data
    UndeclaredPiiRule(),
    PiiForGa4Rule(),
    # KB6xx: targets and thresholds
    CurrencyFormatRule(),
    UnusedCurrencyRule(),
    ThresholdSideRule(),
    ThresholdOrderRule(),
    TargetBandRule(),
    PercentScaleRule(),
    ShareTargetRule(),
    DuplicateTargetDateRule(),
    # KB61x: numbers later stages can use
    FiniteNumberRule(),
    WindowLengthRule(),
    FormulaNumberRule(),
    PeriodTargetShapeRule(),
    # KB62x: alert settings
    AlertShareRule(),
    AlertAmountRule(),
    AlertPercentScaleRule(),
    # KB63x: values as GA4 spells them (KB631-KB633 check them against the loaded data: data_values.py)
    Ga4VocabularyRule(),
    # KB7xx: warnings
    HighCardinalityBreakdownRule(),
    UnusedEventRule(),
    MissingTriggerRule(),
    KpiFileNameRule(),
)


def code_titles() -> dict[str, str]:
    """Every issue code → what it checks (for SARIF, the docs and `kpi explain`)."""
    titles = dict(LOADER_AND_MODEL_CODES)
    titles.update({rule.code: rule.title for rule in ALL_RULES})
    titles.update({c.code: c.title for c in DATA_CODES})
    return dict(sorted(titles.items()))


__all__ = ["ALL_RULES", "Rule", "code_titles", "run_rules"]
