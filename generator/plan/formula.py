"""Formulas of derived KPIs (`revenue / new_users`): parsed safely into a tiny expression tree."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar


class FormulaError(ValueError):
    """A formula that is not `+ - * /` over KPI ids and numbers."""


@dataclass(frozen=True)
class Ref:
    kpi: str


@dataclass(frozen=True)
class Num:
    value: float


@dataclass(frozen=True)
class BinOp:
    op: str  # + - * /
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Neg:
    operand: Expr


Expr = Ref | Num | BinOp | Neg
T = TypeVar("T")

_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


def parse_formula(text: str) -> Expr:
    """Parse `a / b`, `(a - b) / a`, `a * 100`; anything else raises FormulaError."""
    if len(text) > 500:
        raise FormulaError("the formula is longer than 500 characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise FormulaError(f"it cannot be read ({exc.msg})") from None
    except (RecursionError, MemoryError):
        raise FormulaError("it is nested too deeply") from None
    return _convert(tree.body)


def _convert(node: ast.AST) -> Expr:
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return BinOp(_OPS[type(node.op)], _convert(node.left), _convert(node.right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return Neg(_convert(node.operand))
    if isinstance(node, ast.Name):
        return Ref(node.id)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return Num(float(node.value))
    raise FormulaError("only KPI ids, numbers, `+ - * /` and parentheses are allowed")


def references(expr: Expr) -> list[str]:
    """The KPI ids a formula uses, in order of appearance, each once."""
    out: list[str] = []

    def walk(e: Expr) -> None:
        if isinstance(e, Ref) and e.kpi not in out:
            out.append(e.kpi)
        elif isinstance(e, BinOp):
            walk(e.left)
            walk(e.right)
        elif isinstance(e, Neg):
            walk(e.operand)

    walk(expr)
    return out


def render(expr: Expr) -> str:
    """The formula written back in a canonical form."""
    if isinstance(expr, Ref):
        return expr.kpi
    if isinstance(expr, Num):
        return f"{expr.value:g}"
    if isinstance(expr, Neg):
        return f"-({render(expr.operand)})"
    return f"({render(expr.left)} {expr.op} {render(expr.right)})"


def ratio_parts(expr: Expr) -> tuple[Expr, Expr] | None:
    """(numerator, denominator) when the formula is a ratio (its last step divides: `(a - b) / c`), else None.

    The one rule for "is this derived KPI a ratio": the plan's aggregation, the SQL and the Data API's values
    all ask here, so a ratio's period value is always sum(numerator) / sum(denominator)."""
    if isinstance(expr, BinOp) and expr.op == "/":
        return expr.left, expr.right
    return None


def fold(expr: Expr, ref: Callable[[str], T], num: Callable[[float], T], neg: Callable[[T], T],
            binop: Callable[[str, T, T], T]) -> T:
    """Evaluate a formula bottom-up: `ref(kpi_id)`, `num(value)`, `neg(x)`, `binop(op, left, right)` say what
    each node becomes (a number in Python, an expression in SQL)."""
    if isinstance(expr, Ref):
        return ref(expr.kpi)
    if isinstance(expr, Num):
        return num(expr.value)
    if isinstance(expr, Neg):
        return neg(fold(expr.operand, ref, num, neg, binop))
    return binop(expr.op, fold(expr.left, ref, num, neg, binop), fold(expr.right, ref, num, neg, binop))


def evaluate(expr: Expr, env: dict[str, float]) -> float | None:
    """The formula's value over its KPIs' values; None when one is missing or a division is by zero."""

    def binop(op: str, left: float | None, right: float | None) -> float | None:
        if left is None or right is None:
            return None
        if op == "+":
            return left + right
        if op == "-":
            return left - right
        if op == "*":
            return left * right
        return left / right if right else None

    return fold(expr, env.get, lambda v: v, lambda x: None if x is None else -x, binop)
