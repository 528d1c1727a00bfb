"""BigQuery statements in a form both BigQuery and a local BigQuery emulator run (`lower` applies it).

`kpi refresh --engine bigquery` is tested, and users' CI may run it, against bqemulator (GoogleSQL translated
to DuckDB). It rejects three valid GoogleSQL spellings the generated SQL used; each is written here in an
equivalent form both accept, and the statement says so in a comment beside it:

- `device.category` read from the wildcard table binds to a table named `device` there: the table is
  aliased `events` and its struct paths qualified (`events.device.category`);
- a bare `a || b`, and `FORMAT_DATE('%Y%m%d', d)`, send the statement through a rewrite pass that drops the
  export's RECORD columns (`event_params`) and then fails: `CAST(a || b AS STRING)` (a no-op in BigQuery)
  and `REPLACE(CAST(d AS STRING), '-', '')` (the same text for every four-digit year) do not;
- `DATE_TRUNC(d, ISOWEEK | MONTH | QUARTER)` (the week, month and quarter buckets, `buckets.py`), and
  `EXTRACT(DAYOFWEEK …)`, go through the same failing pass (ISOWEEK is not even known to it): the first day
  is computed by date arithmetic instead (`_TRUNC_FORMS`: the same day for every date).

Not for the emulator: a window's `ORDER BY` without a NULLS order is given BigQuery's own (NULLS FIRST when
ascending), which BigQuery writes as nothing, so rendering says nothing about a NULLS LAST it cannot write in a
window. The keys ordered there (a session's start) are never NULL, so both orders are the same.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

EXPORT_ALIAS = "events"
NOTE = ("the export table is aliased and its struct columns qualified (events.device.category): the same in BigQuery, "
        "in a form local BigQuery emulators accept too")


CONCAT_NOTE = "CAST(… AS STRING) around ||: a no-op in BigQuery, kept for local emulators"
DATE_NOTE = "REPLACE(CAST(date AS STRING), '-', '') is FORMAT_DATE('%Y%m%d', date), in a form local emulators run"


def emulator_compatible(statement: exp.Expr, table_name: str) -> exp.Expr:
    """The BigQuery statement in the equivalent form local emulators run too (in place); see the module doc."""
    qualify_export_reads(statement, table_name)
    _cast_concatenations(statement)
    _format_dates_by_cast(statement)
    _date_truncs_by_arithmetic(statement)
    _window_nulls_as_bigquery(statement)
    return statement


TRUNC_NOTE = "DATE_TRUNC(d, {unit}), in a form local emulators run"
# DATE '0001-01-01' was a Monday; no DATE_TRUNC and no EXTRACT(DAYOFWEEK): bqemulator rewrites both through the
# pass that drops the export's RECORD columns
_TRUNC_FORMS = {
    "ISOWEEK": "DATE_SUB(d, INTERVAL MOD(DATE_DIFF(d, DATE '0001-01-01', DAY), 7) DAY)",
    "MONTH": "DATE_SUB(d, INTERVAL EXTRACT(DAY FROM d) - 1 DAY)",
    "QUARTER": "DATE_SUB(DATE_SUB(d, INTERVAL EXTRACT(DAY FROM d) - 1 DAY), INTERVAL MOD(EXTRACT(MONTH FROM d) - 1, 3) MONTH)",
}
_TRUNC_TEMPLATES = {unit: sqlglot.parse_one(sql, read="bigquery") for unit, sql in _TRUNC_FORMS.items()}


def _date_truncs_by_arithmetic(statement: exp.Expr) -> None:
    """`DATE_TRUNC(d, ISOWEEK | MONTH | QUARTER)` (the buckets) → the same first day by date arithmetic."""
    for node in list(statement.find_all(exp.DateTrunc)):
        unit = node.text("unit").upper()
        if unit not in _TRUNC_TEMPLATES:
            continue
        first = _TRUNC_TEMPLATES[unit].transform(lambda n, day=node.this: day.copy() if n == exp.column("d") else n)
        first.add_comments([TRUNC_NOTE.format(unit=unit)])
        node.replace(first)


def _window_nulls_as_bigquery(statement: exp.Expr) -> None:
    for window in statement.find_all(exp.Window):
        order = window.args.get("order")
        for key in (order.expressions if order is not None else []):
            if isinstance(key, exp.Ordered) and key.args.get("nulls_first") is None:
                key.set("nulls_first", not key.args.get("desc"))


def _cast_concatenations(statement: exp.Expr) -> None:
    """`a || b` → `CAST(a || b AS STRING)`: bqemulator rewrites a bare `||` through a pass that drops RECORD
    columns (e.g. `event_params`) from the export table and then fails; the cast keeps it off that pass."""
    noted = False
    for node in list(statement.find_all(exp.DPipe)):
        parent = node.parent
        if isinstance(parent, exp.Cast) and parent.to.this in _STRING_TYPES:
            continue
        cast = exp.Cast(to=exp.DataType.build("TEXT"))
        node.replace(cast)
        cast.set("this", node)
        if not noted:
            cast.add_comments([CONCAT_NOTE])
            noted = True


_STRING_TYPES = (exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT)


def _format_dates_by_cast(statement: exp.Expr) -> None:
    """`FORMAT_DATE('%Y%m%d', d)` → `REPLACE(CAST(d AS STRING), '-', '')` (the same text for years 1000-9999):
    bqemulator rewrites FORMAT_DATE with `%Y` through the same failing pass as `||`."""
    for node in list(statement.find_all(exp.TimeToStr)):
        fmt = node.args.get("format")
        if not (isinstance(fmt, exp.Literal) and fmt.this == "%Y%m%d"):
            continue
        text = exp.Cast(this=node.this.copy(), to=exp.DataType.build("TEXT"))
        replaced = exp.func("REPLACE", text, exp.Literal.string("-"), exp.Literal.string(""), dialect="bigquery")
        replaced.add_comments([DATE_NOTE])
        node.replace(replaced)


def qualify_export_reads(statement: exp.Expr, table_name: str) -> exp.Expr:
    """Alias each read of the wildcard table `table_name` and qualify the columns its SELECT reads (in place)."""
    for select in list(statement.find_all(exp.Select)):
        source = select.args.get("from_")
        table = source.this if source is not None else None
        if not isinstance(table, exp.Table) or table.alias or _dotted(table) != table_name:
            continue
        table.set("alias", exp.TableAlias(this=exp.to_identifier(EXPORT_ALIAS)))
        table.add_comments([NOTE])
        local = _local_names(select, table)
        for column in list(select.find_all(exp.Column)):  # also those of its UNNEST(event_params) subqueries
            _qualify(column, local)
    return statement


def _dotted(table: exp.Table) -> str:
    return ".".join(part.name for part in table.parts)


def _local_names(select: exp.Select, export: exp.Table) -> set[str]:
    """Names a column may be qualified with that are not the export's own columns (e.g. `param` of UNNEST)."""
    names = {alias.name for alias in select.find_all(exp.TableAlias) if alias.name}
    # BigQuery's `UNNEST(x) AS param` names a value (sqlglot: an alias column), not a table
    names |= {c.name for alias in select.find_all(exp.TableAlias) for c in alias.columns}
    names |= {t.name for t in select.find_all(exp.Table) if t is not export}
    return names - {EXPORT_ALIAS}


def _qualify(column: exp.Column, local: set[str]) -> None:
    parts = [p for k in ("catalog", "db", "table") if (p := column.args.get(k)) is not None]
    root = parts[0].name if parts else column.name
    struct_path = bool(parts) or (isinstance(column.parent, exp.Dot) and column.parent.this is column)
    if not struct_path or root in local or root == EXPORT_ALIAS or len(parts) == 3:
        return
    qualified = [exp.to_identifier(EXPORT_ALIAS), *parts]
    for key, part in zip(("catalog", "db", "table")[3 - len(qualified):], qualified, strict=True):
        column.set(key, part)
