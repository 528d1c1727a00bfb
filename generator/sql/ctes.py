"""Common table expressions as (name, body) pairs: taking them off a SELECT, renaming, attaching.

The per-KPI statement and the batch statement are both assembled from such pairs; a derived KPI hoists its
components' CTEs under a prefix, the batch statement gives every KPI's own CTEs its prefix.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TypeVar

from sqlglot import exp

E = TypeVar("E", bound=exp.Expr)

Cte = tuple[str, exp.Expr]
HISTORY = "history"
"""The `meta` key of a CTE body that reads the days before `start_date` (`tag_history`)."""
HISTORY_KINDS = ("transactions", "first_ever_events", "first_ever_users", "prior_params", "prior_clicks")


def tag_history(body: E, kind: str) -> E:
    """`body` marked as reading the days before `start_date` (`kind`: one of `HISTORY_KINDS`), so that
    `periods.spread_over_periods` can read them once for many ranges."""
    if kind not in HISTORY_KINDS:
        raise ValueError(f"unknown history kind {kind!r}; use one of: {', '.join(HISTORY_KINDS)}")
    body.meta[HISTORY] = kind
    return body


def take_ctes(select: exp.Select) -> list[Cte]:
    """Remove the WITH clause of `select` (in place) and return its CTEs in order."""
    key = "with_" if "with_" in select.args else "with"
    with_ = select.args.get(key)
    ctes = [(cte.alias, cte.this) for cte in with_.expressions] if with_ is not None else []
    select.set(key, None)
    return ctes


def rename_tables(node: exp.Expr, mapping: Mapping[str, str]) -> exp.Expr:
    """`node` (changed in place) with every unqualified table named in `mapping` renamed."""

    def rename(n: exp.Expr) -> exp.Expr:
        if isinstance(n, exp.Table) and not n.args.get("db") and n.name in mapping:
            n.set("this", exp.to_identifier(mapping[n.name]))
        return n

    return node.transform(rename, copy=False)


def attach(select: exp.Query, ctes: Iterable[Cte], inline: Iterable[str] = ()) -> exp.Query:
    """`select` with the CTEs in front, in order.

    A CTE whose rows are read more than once is MATERIALIZED (computed once), except those named in `inline`,
    which are NOT MATERIALIZED: cheap filters of another CTE, whose readers' own filters DuckDB should push
    down into them rather than store a copy of the rows. Reads through an inline CTE count once per read of it.
    """
    ctes = list(ctes)
    inline = set(inline)

    def tables(body: exp.Expr) -> list[str]:
        return [t.name for t in body.find_all(exp.Table) if not t.args.get("db")]

    reads = Counter(tables(select))
    for name, body in reversed(ctes):  # a CTE reads only those before it
        runs = reads[name] if name in inline else min(reads[name], 1)
        for table in tables(body):
            reads[table] += runs
    expressions = []
    for name, body in ctes:
        materialized = False if name in inline else (True if reads[name] > 1 else None)
        expressions.append(exp.CTE(this=body, alias=exp.TableAlias(this=exp.to_identifier(name)),
                                   materialized=materialized))
    key = "with_" if "with_" in exp.Select.arg_types else "with"
    select.set(key, exp.With(expressions=expressions))
    return select
