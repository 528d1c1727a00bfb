"""Event params flattened at load: a plain column per param the KPIs read, so no refresh searches `event_params`.

GA4 puts every param of an event in the nested `event_params` list; finding one there costs about six times
reading a plain column (measured on 3M events: 7.2 vs 1.2 CPU s for three params). The warehouse keeps the
list as exported (nothing is lost, `kpi explain --sql` still reads it) and, beside it, one column `kp_<n>` per
flattened param holding exactly what `list_filter(event_params, …)[1].value` gives: the param's `value` record
(string_value, int_value, float_value, double_value), so every typed reading in `generator/sql/params.py`
is unchanged, and so is every number.

- `flat_params` (key → column) says which params are columns; `warehouse_shape` hands that to the SQL
  (`ExportShape.flat_params`), which reads the column for those and the list for any other param: a param not
  yet flattened is slower, never wrong.
- A load fills the columns of the rows it inserts, in the same statement (`with_flat_columns`). Before it
  inserts, it registers the params its KPI files' refresh will read (`params_for_load`), so a first load
  flattens them at no extra pass, and a load that replaced every stored day marks them filled
  (`mark_filled_if_whole`): flattening 5M loaded events after the load costs 12 CPU s, in the load about 3.
- A refresh first flattens the params its statements read that are not yet columns (`flatten`): one
  `ALTER TABLE` and one `UPDATE` pass over the stored events in one transaction, a re-extract, never a reload.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

import duckdb
from sqlglot import exp

from generator.compile import compile_paths
from generator.plan.queries import QueryPlan
from generator.sql.attribution_methods import build_methods_query
from generator.sql.batch import build_plan_query
from generator.sql.dialects import EventParam, lower, params_read
from generator.sql.export_shape import NEWEST, ExportShape

from .clock import utc_now
from .connection import transaction
from .day_tables import IN_DAYS, days_params
from .schema.events import PARAM_VALUE_TYPE
from .sql_texts import kept_text, text_key


def flat_columns(con: duckdb.DuckDBPyConnection, filled: bool = True) -> list[tuple[str, str]]:
    """(param key, column) of the flattened params, in the order their columns were added to `ga4_events`:
    those filled for every stored event (what the SQL may read), or with `filled` False every column a load
    fills (those still being filled too)."""
    try:
        rows = con.execute("SELECT key, column_name FROM flat_params WHERE flattened_at IS NOT NULL OR NOT $filled "
                           "ORDER BY CAST(substr(column_name, 4) AS INTEGER)", {"filled": filled}).fetchall()
    except duckdb.CatalogException:  # a store not migrated yet, read read-only (`kpi validate --db`): none
        return []
    return [(str(key), str(column)) for key, column in rows]


def warehouse_shape(con: duckdb.DuckDBPyConnection) -> ExportShape:
    """The shape of the warehouse's `events`: the newest export's columns plus the flattened params."""
    return dataclasses.replace(NEWEST, flat_params=tuple(flat_columns(con)))


def _extract(key: str) -> exp.Expr:
    """The param `key`'s `value` record on the current row, searched in `event_params` (the key a literal node)."""
    return lower(EventParam(this=exp.Literal.string(key)), "duckdb")


KEYS = "kb_param_keys"
"""The event's param keys in list order, a column computed once per event for every flattened param."""


def _keys() -> exp.Expr:
    """`event_params`' keys, in order: `list_transform(event_params, lambda p: p.key)`."""
    return exp.alias_(exp.Transform(this=exp.column("event_params"), expression=exp.Lambda(
        this=exp.Dot(this=exp.column("p"), expression=exp.to_identifier("key")),
        expressions=[exp.to_identifier("p")])), KEYS)


def _extract_by_keys(key: str) -> exp.Expr:
    """What `_extract(key)` gives, found through the event's keys (`KEYS`): the first param named `key`, NULL
    when none is (`list_position` finds the first; an index NULL gives NULL). One list of keys serves every
    flattened param, where `list_filter` runs a lambda over the whole list per param: at 5M events, seven
    params 2.8 → 2.1 CPU s."""
    position = exp.func("list_position", exp.column(KEYS), exp.Literal.string(key))
    item = exp.Bracket(this=exp.column("event_params"), expressions=[position], offset=1)
    return exp.Dot(this=item, expression=exp.to_identifier("value"))


def with_flat_columns(con: duckdb.DuckDBPyConnection, rows: duckdb.DuckDBPyRelation,
                      columns: Iterable[str]) -> duckdb.DuckDBPyRelation:
    """`rows` (the `ga4_events` columns `columns`, in table order) followed by each flattened param's column,
    extracted from its `event_params`: the table's full row, for a positional insert."""
    names = [exp.column(name, quoted=True) for name in columns]
    flat = flat_columns(con, filled=False)
    if not flat:
        return rows.project(", ".join(node.sql("duckdb") for node in names))
    keyed = rows.project(", ".join(node.sql("duckdb") for node in [*names, _keys()]))
    select = [*names, *(exp.alias_(_extract_by_keys(key), column) for key, column in flat)]
    return keyed.project(", ".join(node.sql("duckdb") for node in select))


def params_of(con: duckdb.DuckDBPyConnection, plan: QueryPlan) -> list[str]:
    """The event params a refresh of `plan` reads: its KPIs' (all in one statement) and the attribution
    methods' check (kept between refreshes like the statements, `sql_texts.py`)."""
    text = kept_text(con, text_key("params", plan, None), lambda: "\n".join(_params_of(plan)))
    return text.split("\n") if text else []


def _params_of(plan: QueryPlan) -> list[str]:
    """A plan whose statement cannot be built gets none (its KPIs fail, each with its own message)."""
    try:
        statements = [build_plan_query(plan), build_methods_query()]
    except (ValueError, ArithmeticError, RecursionError):
        statements = [build_methods_query()]
    return list(dict.fromkeys(key for statement in statements for key in params_read(statement)))


def register(con: duckdb.DuckDBPyConnection, keys: Iterable[str]) -> dict[str, str]:
    """Add a column for each param of `keys` that has none yet, registered as not filled (in the caller's
    transaction); returns every registered (key, column), filled or not, which is what a load fills."""
    registered = dict(flat_columns(con, filled=False))
    new = [key for key in dict.fromkeys(keys) if key not in registered]
    taken = {int(column[3:]) for column in registered.values()}
    numbers = [n for n in range(1, len(taken) + len(new) + 1) if n not in taken][: len(new)]
    for key, column in zip(new, (f"kp_{n}" for n in numbers), strict=True):
        con.execute(_add_column(column).sql("duckdb"))
        con.execute("INSERT INTO flat_params VALUES ($key, $column, NULL)", {"key": key, "column": column})
        registered[key] = column
    return registered


def mark_filled_if_whole(con: duckdb.DuckDBPyConnection, days: Iterable[str]) -> None:
    """Mark filled the registered columns not filled yet when `days`, which a load just (re)filled with every
    registered column, are every stored day (in the load's transaction): then no event lacks them."""
    (others,) = con.execute("SELECT count(*) FROM loaded_days WHERE NOT list_contains($days, event_date)",
                            {"days": list(days)}).fetchall()[0]
    if not others:
        con.execute("UPDATE flat_params SET flattened_at = $at WHERE flattened_at IS NULL", {"at": utc_now()})


def params_for_load(con: duckdb.DuckDBPyConnection, kpis: Path) -> list[str]:
    """The params a refresh of the KPI files in `kpis` will read (`params_of`), so that the load fills their
    columns as it inserts, and the refresh after it has nothing left to flatten; none when there is no such
    folder or its files have errors (the refresh reports those)."""
    if not kpis.is_dir():
        return []
    compiled = compile_paths([kpis])
    if compiled.report.errors:
        return []
    return params_of(con, compiled.plan)


def flatten(con: duckdb.DuckDBPyConnection, keys: Iterable[str]) -> list[str]:
    """Make a column of every param in `keys` that is not one yet and fill it for every stored event; returns
    the keys it filled.

    The columns are added and registered first (one transaction), then filled a group of days at a time (each
    its own transaction: one `UPDATE` of 10M events would need more memory than DuckDB's limit), and marked
    filled last: until then the SQL reads the list, so an interrupted fill is slower, never wrong, and the next
    refresh fills those columns again. Loads fill every registered column, filled or not."""
    keys = list(keys)
    registered = dict(flat_columns(con, filled=False))
    if any(key not in registered for key in keys):
        with transaction(con):
            registered = register(con, keys)
    todo = {key: column for key, column in registered.items() if key not in dict(flat_columns(con))}
    if not todo:
        return []
    update = exp.update("ga4_events", {column: _extract(key) for key, column in todo.items()},
                        where=exp.condition(IN_DAYS, dialect="duckdb")).sql("duckdb")
    for days in _day_groups(con):
        with transaction(con):
            con.execute(update, days_params(days))
    con.execute("UPDATE flat_params SET flattened_at = $at WHERE list_contains($keys, key)",
                {"at": utc_now(), "keys": list(todo)})
    return list(todo)


FILL_ROWS = 1_000_000
"""Events filled per transaction (a day more than this is filled alone)."""


def _day_groups(con: duckdb.DuckDBPyConnection) -> list[list[str]]:
    groups: list[list[str]] = []
    rows = FILL_ROWS
    for day, n in con.execute("SELECT event_date, rows FROM loaded_days ORDER BY event_date").fetchall():
        if rows + n > FILL_ROWS:
            groups.append([])
            rows = 0
        groups[-1].append(str(day))
        rows += n
    return groups


def _add_column(column: str) -> exp.Expr:
    kind = exp.DataType.build(PARAM_VALUE_TYPE, dialect="duckdb")
    return exp.Alter(this=exp.to_table("ga4_events"), kind="TABLE",
                     actions=[exp.ColumnDef(this=exp.to_identifier(column), kind=kind)])
