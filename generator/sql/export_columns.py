"""Which columns of the GA4 export a rendered statement reads (for the header of a generated `.sql` file).

Read from the statement itself, so the list can never disagree with the SQL: every column a SELECT reading the
export table (`events` in DuckDB, the wildcard table in BigQuery) names, with the fields of a RECORD it reads
(`device (category)`). Names the statement defines itself (UNNEST and lambda variables, aliases) and the
wildcard table's `_TABLE_SUFFIX` are not export columns.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from .dialects import BIGQUERY_TABLE_PLACEHOLDER, Dialect

_EXPORT_TABLES = {"events", BIGQUERY_TABLE_PLACEHOLDER}
_PSEUDO = {"_TABLE_SUFFIX"}


def export_columns(sql: str, dialect: Dialect) -> dict[str, set[str]]:
    """{top-level export column: the fields of it the statement reads (empty: the whole column); for
    `event_params`, the keys of the params it reads}."""
    tree = sqlglot.parse_one(sql, read=dialect)
    out: dict[str, set[str]] = {}
    for select in tree.find_all(exp.Select):
        source = select.args.get("from_")
        table = source.this if source is not None else None
        if not isinstance(table, exp.Table) or ".".join(p.name for p in table.parts) not in _EXPORT_TABLES:
            continue
        alias = table.alias
        local = _local_names(select, table)
        for column in select.find_all(exp.Column):
            if _of_a_table(column, select):  # read on its own if that table is the export's
                continue
            path = [p.name for p in column.parts]
            if alias and len(path) > 1 and path[0] == alias:
                path = path[1:]
            path += _fields_after(column)
            if path[0] in local or path[0].upper() in _PSEUDO:
                continue
            fields = out.setdefault(path[0], set())
            if len(path) > 1:
                fields.add(path[1])
        if "event_params" in out:
            out["event_params"] |= _param_keys(select)
    return out


def _of_a_table(column: exp.Column, select: exp.Select) -> bool:
    """`column` is read by a subquery of `select` from a table of its own (the lookback's
    `visitor IN (SELECT visitor FROM session_firsts …)`), not from `select`'s row (BigQuery's
    `(SELECT value FROM UNNEST(event_params) …)`)."""
    inner = column.find_ancestor(exp.Select)
    source = inner.args.get("from_") if inner is not None and inner is not select else None
    return source is not None and isinstance(source.this, exp.Table)


def _param_keys(select: exp.Select) -> set[str]:
    """The keys of `event_params` the SELECT reads (`param.key = 'ga_session_id'`)."""
    return {side.name for eq in select.find_all(exp.EQ) for side in (eq.this, eq.expression)
            if isinstance(side, exp.Literal) and side.is_string
            and any(_is_key(o) for o in (eq.this, eq.expression))}


def _is_key(node: exp.Expr) -> bool:
    """`param.key` (a column in BigQuery's UNNEST, a field of the lambda variable in DuckDB's LIST_FILTER)."""
    return (isinstance(node, exp.Column) and node.name == "key") or (
        isinstance(node, exp.Dot) and node.expression.name == "key")


def describe_export_columns(columns: dict[str, set[str]]) -> str:
    """`event_date, device (category), …`, in the export's usual order of mention (sorted)."""
    return ", ".join(f"{name} ({', '.join(sorted(fields))})" if fields else name
                     for name, fields in sorted(columns.items()))


def _fields_after(column: exp.Column) -> list[str]:
    """`x.a.b` written as Dot(Column(x.a), b): the field names after the column."""
    fields: list[str] = []
    node: exp.Expr = column
    while isinstance(node.parent, exp.Dot) and node.parent.this is node:
        node = node.parent
        fields.append(node.expression.name)
    return fields


def _local_names(select: exp.Select, export: exp.Table) -> set[str]:
    names = {a.name for a in select.find_all(exp.TableAlias) if a.name}
    names |= {c.name for a in select.find_all(exp.TableAlias) for c in a.columns}
    names |= {t.name for t in select.find_all(exp.Table) if t is not export}
    names |= {v.name for lam in select.find_all(exp.Lambda) for v in lam.expressions}
    return names
