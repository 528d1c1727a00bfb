"""Derived KPIs (`revenue / new_users`): the component KPIs' queries as CTEs, joined and combined.

Each component's statement keeps its own CTEs, renamed `<component>__<cte>` and hoisted to the top, and
its result becomes the CTE `kpi_<component>`. The rows are the (date, breakdown, breakdown_value) of any
component, for the total and the breakdowns the plan lists; the formula is evaluated per row with
`a / NULLIF(b, 0)` for division. A component that adds up (a count, a sum) and has no row for a day counted
zero that day; any other missing component leaves the result NULL.

For a formula whose last step is a division, `numerator` and `denominator` are its two sides, so a
period's value can be recomputed as sum(numerator) / sum(denominator); otherwise `numerator` is the value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from sqlglot import exp

from ..plan.formula import Expr, fold, ratio_parts
from ..plan.queries import DerivedQuery, KpiQuery, QueryPlan
from .ctes import rename_tables, take_ctes

KEYS = ("date", "breakdown", "breakdown_value")
ROW_KEYS = "derived_keys"
_SAFE_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")

BuildComponent = Callable[[KpiQuery], exp.Select]


def derived_query(q: DerivedQuery, plan: QueryPlan, build_component: BuildComponent) -> exp.Select:
    """The derived KPI's statement, in the result shape (date, breakdown, …, value)."""
    ctes: list[tuple[str, exp.Expr]] = []
    names: dict[str, str] = {}
    for i, kid in enumerate(q.components, start=1):
        prefix = kid if _SAFE_ID.fullmatch(kid) else f"component_{i}"
        names[kid] = f"kpi_{prefix}"
        inner, main = _hoist(build_component(shown_breakdowns(q, plan.kpis[kid])), prefix)
        ctes.extend(inner)
        ctes.append((names[kid], main))
    row_keys, select = combine(q, plan, names, ROW_KEYS)
    ctes.append((ROW_KEYS, row_keys))
    for name, body in ctes:
        select = select.with_(name, as_=body, copy=False)
    return select


def shown_breakdowns(q: KpiQuery, component: KpiQuery) -> KpiQuery:
    """The component computing only the breakdowns the derived KPI `q` shows."""
    wanted = {b.name for b in q.breakdowns}
    return replace(component, breakdowns=tuple(b for b in component.breakdowns if b.name in wanted))


def combine(q: DerivedQuery, plan: QueryPlan, names: dict[str, str], row_keys_name: str) -> tuple[exp.Expr, exp.Select]:
    """(the row keys' body, the result) of `q` over its components' results, the relations `names[kid]`.

    The result reads the row keys as `row_keys_name`: the caller adds both as CTEs.
    """
    key_selects = [exp.select(*KEYS).from_(name) for name in names.values()]
    row_keys: exp.Expr = key_selects[0]
    for other in key_selects[1:]:
        row_keys = exp.union(row_keys, other, distinct=True)

    def value_of(kid: str) -> exp.Expr:
        value = exp.column("value", table=names[kid])
        if plan.kpis[kid].aggregation == "sum":
            return exp.func("COALESCE", value, exp.Literal.number(0))
        return value

    ratio = ratio_parts(q.formula)
    if ratio is not None:
        numerator = _evaluate(ratio[0], value_of)
        denominator: exp.Expr = _evaluate(ratio[1], value_of)
        value: exp.Expr = exp.Div(this=exp.Paren(this=numerator.copy()),
                        expression=exp.Nullif(this=denominator.copy(), expression=exp.Literal.number(0)))
    else:
        numerator = _evaluate(q.formula, value_of)
        denominator = exp.null()
        value = numerator.copy()

    select = exp.select(
        *(exp.column(k, table="k") for k in KEYS),
        exp.alias_(exp.cast(numerator, "DOUBLE"), "numerator"),
        exp.alias_(exp.cast(denominator, "DOUBLE"), "denominator"),
        exp.alias_(exp.cast(value, "DOUBLE"), "value"),
    ).from_(exp.alias_(exp.to_table(row_keys_name), "k", table=True))
    for name in names.values():
        on = exp.and_(*(exp.EQ(this=exp.column(k, table=name), expression=exp.column(k, table="k")) for k in KEYS))
        select = select.join(exp.to_table(name), on=on, join_type="left")
    return row_keys, select


def _evaluate(e: Expr, value_of: Callable[[str], exp.Expr]) -> exp.Expr:
    def binop(op: str, left: exp.Expr, right: exp.Expr) -> exp.Expr:
        left, right = exp.Paren(this=left), exp.Paren(this=right)
        if op == "/":
            return exp.Div(this=left, expression=exp.Nullif(this=right, expression=exp.Literal.number(0)))
        node = {"+": exp.Add, "-": exp.Sub, "*": exp.Mul}[op]
        return node(this=left, expression=right)

    return fold(e, value_of, lambda v: exp.Literal.number(v), lambda x: exp.Neg(this=exp.Paren(this=x)), binop)


def _hoist(select: exp.Select, prefix: str) -> tuple[list[tuple[str, exp.Expr]], exp.Expr]:
    """A component's CTEs, renamed `<prefix>__<name>`, and its main SELECT reading the renamed CTEs."""
    ctes = take_ctes(select)
    renamed = {name: f"{prefix}__{name}" for name, _ in ctes}
    hoisted = [(renamed[name], rename_tables(body, renamed)) for name, body in ctes]
    return hoisted, rename_tables(select, renamed)
