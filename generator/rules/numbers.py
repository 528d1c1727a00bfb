"""Numbers later stages can use: finite, within range, windows of sane length, no division by zero.

YAML reads `1e309` as infinity and `.nan` as not-a-number; neither can be compared, stored as a target or
written into SQL, so every number in a KPI file or the events catalog is checked here, where it is written,
instead of failing later in `kpi generate` or `kpi refresh`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from ..issues import Issue
from ..parse.catalog import KpiCatalog
from ..parse.loading import Document, KeyPath, dotted
from ..plan.formula import BinOp, Expr, FormulaError, Neg, Num, evaluate, parse_formula
from .base import Rule
from .declarations import declared_params
from .regex import PatternError, compile_pattern

# Whole numbers up to 2^53 are exact as doubles (DuckDB's DOUBLE, GA4's numbers, the dashboard's floats).
MAX_ABS = 2.0**53
MAX_WINDOW_DAYS = 90  # GA4's longest conversion / lookback window; the query reads this many days beyond a range


def _numbers(data: Any, path: KeyPath = ()) -> Iterator[tuple[KeyPath, float | int]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _numbers(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _numbers(value, (*path, i))
    elif isinstance(data, int | float) and not isinstance(data, bool):
        yield path, data


def _documents(catalog: KpiCatalog) -> list[Document]:
    return [sk.doc for sk in catalog.kpis.values()] + list(catalog.events_docs)


def number_problem(value: float) -> str | None:
    """Why a number cannot be used, or None."""
    if isinstance(value, float) and math.isnan(value):
        return "is not a number (`.nan`)"
    if isinstance(value, float) and math.isinf(value):
        return "is infinite (a number too large for a computer to hold, such as `1e309`)"
    if abs(value) > MAX_ABS:
        return f"is too large: numbers must lie between -{MAX_ABS:,.0f} and {MAX_ABS:,.0f}"
    return None


class FiniteNumberRule(Rule):
    code = "KB611"
    title = "numbers are finite and within range"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for doc in _documents(catalog):
            for path, value in _numbers(doc.data):
                problem = number_problem(value)
                if problem:
                    key = dotted(path)
                    yield self.issue(f"`{key}` {problem}.", doc.locate(path),
                                     "Write an ordinary number, e.g. `0.03`, `1500` or `250000`.")


class WindowLengthRule(Rule):
    code = "KB612"
    title = f"conversion windows are at most {MAX_WINDOW_DAYS} days"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for sk in catalog.kpis.values():
            conv = sk.kpi.measure.conversion
            if conv is not None and conv.window_seconds > MAX_WINDOW_DAYS * 86400:
                yield self.issue(
                    f"the window `within: {conv.within[:30]}` is longer than {MAX_WINDOW_DAYS} days.",
                    sk.locate("measure", "conversion", "within"),
                    f"Use a window of at most `{MAX_WINDOW_DAYS}d` (GA4's own conversion windows end there too).")


def _constant(expr: Expr) -> float | None:
    """The value of a subformula without KPI ids (e.g. `2 - 2`), or None when it reads KPIs."""
    return evaluate(expr, {})


def _formula_problems(expr: Expr) -> Iterator[str]:
    if isinstance(expr, Num):
        problem = number_problem(expr.value)
        if problem:
            yield f"a number in it {problem}"
    elif isinstance(expr, Neg):
        yield from _formula_problems(expr.operand)
    elif isinstance(expr, BinOp):
        yield from _formula_problems(expr.left)
        yield from _formula_problems(expr.right)
        if expr.op == "/" and _constant(expr.right) == 0:
            yield "it divides by zero"


class FormulaNumberRule(Rule):
    code = "KB613"
    title = "formula numbers are finite and no formula divides by zero"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for sk in catalog.kpis.values():
            derived = sk.kpi.measure.derived
            if derived is None:
                continue
            try:
                expr = parse_formula(derived.formula)
            except FormulaError:
                continue  # KB306 reports it
            for problem in dict.fromkeys(_formula_problems(expr)):
                yield self.issue(f"the formula `{derived.formula[:80]}` cannot be computed: {problem}.",
                                 sk.locate("measure", "derived", "formula"),
                                 "Use ordinary numbers (e.g. `revenue * 100`) and divide only by KPIs or numbers "
                                 "other than 0.")


class Re2PatternRule(Rule):
    code = "KB441"
    title = "param patterns are regular expressions RE2 (the warehouse's engine) accepts"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for param in declared_params(catalog):
            pattern = param.spec.pattern
            if pattern is None:
                continue
            try:
                compile_pattern(pattern)
            except PatternError as exc:
                yield self.issue(
                    f"the pattern of `{param.event.name}.{param.name}` cannot be used: {exc}.",
                    param.locate("pattern"),
                    "Write a pattern RE2 accepts (the regular expressions of DuckDB, BigQuery and GA4): no "
                    "look-around `(?=…)`, no back-references `\\1`; test it on https://regex101.com with the "
                    "Golang flavour.")
