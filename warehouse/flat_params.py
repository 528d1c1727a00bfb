"""Event params flattened at load: a plain column per param the KPIs read, so no refresh searches `event_params`.

GA4 puts every param of an event in the nested `event_params` list; finding one there costs about six times
reading a plain column (measured on 3M events: 7.2 vs 1.2 CPU s for three params). The raw files keep the
list as exported (`raw_files.py`: nothing is lost, `kpi explain --sql` still reads it); `slim_events`, what the
statements read, has one column per flattened param from which the SQL reads exactly what
`list_filter(event_params, …)[1].value` gives: the
param's `value` record (string_value, int_value, float_value, double_value), so every typed reading in
`generator/sql/params.py` is unchanged, and so is every number. The column is

- `kp_<n>`: that record, for a param the KPIs read on every event (the spec stamp, a param a KPI filters by);
  a load finds those through one list of the event's param keys (`list_position`), where a lambda over
  the whole list per param cost 2.8 against 2.1 CPU s for seven params at 5M events; or
- `kl_<n>` (`export_shape.LISTED`): the event's params of that name, in order (`list_filter(event_params, …)`,
  read as `kl_<n>[1].value`), for a param the KPIs read on a few events only (a purchase's `value`, a lead's
  `lead_source`: `generator.sql.scan.params_on_few_events`). Such a column is mostly empty lists, which DuckDB
  writes for about half of what a column of mostly NULL records costs (0.93 against 1.38 CPU s for `value`
  at 5M events); a load of 5M events with the example KPIs went from 31.0 to 27.6 CPU s. A column keeps its
  kind once made (both read alike).

- `kc_<n>` (`export_shape.CLICK_COLUMN`, key `click:<field>@<hash of its code>`): a field (source, medium,
  campaign, gclid) of the click the event collected, as text: its `collected_traffic_source`, else the UTM /
  gclid of its `page_location` (`generator.sql.attribution.click_computed`). Every statement that attributes
  sessions needs it for every event, and computing it there searched each event's URL again in each statement (the
  daily values, each group of periods, each lookback): at 5M events a full refresh 41.3 -> 38.4 CPU s, one
  new day at 90 days 7.6 -> 6.4, and with a distinct URL per event (real exports carry click ids and other
  query strings) 50.5 -> 38.5; the load computes it once (+2.9 CPU s at 5M events). The scan reads the
  column through `dialects.EventClick` / `FlatClick`, which compute it where there is none.

- `ks_<n>` (`export_shape.SESSION_COLUMN`, key `session:<param>@<hash of its code>`): the session id as a whole
  number (BIGINT) and whether the session is engaged (BOOLEAN), as every statement reads them from the
  `ga_session_id` and `session_engaged` records (`generator.sql.params.session_value`, read through
  `dialects.SessionParam` / `SessionValue`): a load writing the two records cost 0.67 and 0.89 CPU s at 5M
  events, and every statement computed the values again on every event. The records themselves are kept only
  where a KPI reads the param otherwise.

- `kf_<n>` (`export_shape.FIELD_COLUMN`, key `field:<path>`): an event-scoped field of the export the KPI files
  break down or filter by (`device.category`, `geo.country`, `platform`), text, read through
  `dialects.EventField`: the load keeps those fields, not the whole `device` and `geo` records (at 5M events
  3.3 CPU s for the records, 1.0 for the example KPIs' two fields: a load 20.8 -> 18.5).

- `kq_<n>` (key `pii_search.PII_KEY`): whether the event's param values look like personal data (BOOLEAN), the
  search data quality counts. It reads every value of every event, so the load makes it where it reads the
  params anyway; data quality's search over the raw files' params cost 2.1 CPU s a full refresh at 5M events,
  the column about 1.0 at load. The spec stamp (`kb_spec`, `event_stamps.py`) is a `kp_` column for the same
  reason (2.0 CPU s from the raw files, about 0.7 at load; the refresh after it reads the stamp in 0.3).

- A column the load computes (a click field, the PII flag) has a key with a hash of the code that computes it
  after `export_shape.VERSION_MARK` (`click:source@…`, `check:pii@…`). Code that computes it otherwise is
  another key: registering it drops the former column (`register`) and the refresh makes the new one from the
  raw files, so a store written by an older version never serves values the code no longer computes.

- `flat_params` (key → column) says which params are columns; `warehouse_shape` hands that to the SQL
  (`ExportShape.flat_params`), which reads the column for those. `events` holds no list: a statement reading
  a param not flattened yet stops with `dialects.ParamNotKept`, never a wrong number.
- A load fills the columns of the rows it inserts, in the same statement (`with_flat_columns`). Before it
  inserts, it registers the params its KPI files' refresh will read (`params_for_load`), so a first load
  flattens them at no extra pass, and a load that replaced every stored day marks them filled
  (`mark_filled_if_whole`): flattening 5M loaded events after the load costs 12 CPU s, in the load about 3.
- A refresh first flattens the params its statements read that are not yet columns (`flatten`): one
  `ALTER TABLE`, then an `UPDATE` of `slim_events` from the raw files (`ga4_events`, matched by `kb_file` and
  `kb_row`) a group of days at a time: a re-extract, never a reload.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

import duckdb
from sqlglot import exp

from generator.compile import compile_paths
from generator.plan.queries import QueryPlan
from generator.spec.stamp import STAMP_PARAM
from generator.sql.attribution import CLICK, click_computed
from generator.sql.attribution_methods import build_methods_query
from generator.sql.batch import build_plan_query
from generator.sql.dialects import (
    EventClick,
    EventParam,
    SessionParam,
    field_path,
    fields_read,
    lower,
    params_named,
    params_read,
)
from generator.sql.export_shape import (
    CLICK_COLUMN,
    FIELD_COLUMN,
    FIELD_KEY,
    FIRST_PURCHASES,
    LISTED,
    NEWEST,
    SESSION_COLUMN,
    SESSION_PARAMS,
    VERSION_MARK,
    ExportShape,
    click_key,
    field_key,
    session_value_key,
)
from generator.sql.params import as_string, session_value
from generator.sql.scan import params_on_few_events

from .clock import utc_now
from .connection import transaction
from .day_tables import IN_DAYS, days_params
from .pii_search import PII_KEY, pii_suspect
from .raw_files import FILE, ROW
from .schema.events import EVENT_PARAMS_TYPE, PARAM_VALUE_TYPE, SLIM_TABLE
from .sql_texts import kept_text, text_key


class FlatParam(NamedTuple):
    """A param the KPIs read, to keep as a column: its `value` record (`kp_<n>`), or, `listed` (the KPIs read it
    on a few events only: a purchase's `value`), the event's params of that name (`kl_<n>`, mostly empty); or,
    keyed `click:<field>`, that field of the event's click (`kc_<n>`)."""

    key: str
    listed: bool = False


def flat_columns(con: duckdb.DuckDBPyConnection, filled: bool = True) -> list[tuple[str, str]]:
    """(param key, column) of the flattened params, in the order their columns were added to `slim_events`:
    those filled for every stored event (what the SQL may read), or with `filled` False every column a load
    fills (those still being filled too)."""
    try:
        rows = con.execute("SELECT key, column_name FROM flat_params WHERE flattened_at IS NOT NULL OR NOT $filled "
                           "ORDER BY CAST(substr(column_name, 4) AS INTEGER)", {"filled": filled}).fetchall()
    except duckdb.CatalogException:  # a store not migrated yet, read read-only (`kpi validate --db`): none
        return []
    return [(str(key), str(column)) for key, column in rows]


def warehouse_shape(con: duckdb.DuckDBPyConnection) -> ExportShape:
    """The shape of the warehouse's `events`: the newest export's columns plus the flattened params, and each
    event's `event_row` where the view numbers them (every store since schema 17); since schema 19 (`events`
    over `slim_events`), GA4's last click as four columns and no `event_params` (a store read read-only before
    its migration still has them); since schema 21, no `collected_traffic_source` (the clicks are columns). During
    a refresh, which gives its statements each transaction id's first purchase (`first_seen.first_purchases`), the
    purchases' history reads those (`ExportShape.first_purchases`)."""
    found = {str(c) for (c,) in con.execute(
        "SELECT CASE WHEN database_name = 'temp' THEN table_name ELSE column_name END FROM duckdb_columns() "
        "WHERE (database_name = current_database() AND schema_name = 'main' AND table_name = 'events' "
        "AND column_name IN ('event_row', 'event_params', 'device', 'collected_traffic_source')) "
        "OR (database_name = 'temp' AND table_name = $first AND column_name = 'ecommerce')",
        {"first": FIRST_PURCHASES}).fetchall()}
    return dataclasses.replace(NEWEST, flat_params=tuple(flat_columns(con)), event_rows="event_row" in found,
                               last_click_columns="event_params" not in found,
                               event_params="event_params" in found, event_fields="device" in found,
                               click_inputs="collected_traffic_source" in found,
                               first_purchases=FIRST_PURCHASES in found)


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


def _listed(column: str) -> bool:
    return column.startswith(LISTED)


_CLICKS = {click_key(field): field for field in CLICK}
_SESSIONS = {session_value_key(param): param for param in SESSION_PARAMS}
CHECK_COLUMN = "kq_"
"""A `kq_<n>` column (key `pii_search.PII_KEY`): whether the event's param values look like personal data, the
search data quality counts (`quality.py`), made where the load reads the params anyway."""


def _click(key: str, page_location: exp.Expr) -> exp.Expr:
    """The click field `key` names (`click_key`), computed from the row's `collected_traffic_source` and the
    `page_location` record `page_location`, as every statement would compute it (`click_computed`)."""
    value = click_computed(as_string(page_location), exp.column("collected_traffic_source"))[_CLICKS[key]]
    return lower(value, "duckdb", copy=False)


def _filled_with(key: str, column: str, find: Callable[[str], exp.Expr] = _extract) -> exp.Expr:
    """What a column holds, from the row's `event_params`: the record of `key` (`find`: `_extract`, or
    `_extract_by_keys` in a load), or, for a listed column, the event's params named `key`, or, for a click
    column, that field of the event's click (from the record of `page_location`)."""
    if key in _CLICKS:
        return _click(key, find("page_location"))
    if key in _SESSIONS:
        return lower(session_value(_SESSIONS[key], find(_SESSIONS[key])), "duckdb", copy=False)
    if key == PII_KEY:
        return pii_suspect()
    if key.startswith(FIELD_KEY):
        return field_path(key.removeprefix(FIELD_KEY))
    return params_named(key) if _listed(column) else find(key)


def _extract_by_keys(key: str) -> exp.Expr:
    """What `_extract(key)` gives, found through the event's keys (`KEYS`): the first param named `key`, NULL
    when none is (`list_position` finds the first; an index NULL gives NULL). One list of keys serves every
    flattened param, where `list_filter` runs a lambda over the whole list per param: at 5M events, seven
    params 2.8 → 2.1 CPU s."""
    position = exp.func("list_position", exp.column(KEYS), exp.Literal.string(key))
    item = exp.Bracket(this=exp.column("event_params"), expressions=[position], offset=1)
    return exp.Dot(this=item, expression=exp.to_identifier("value"))


def with_flat_columns(con: duckdb.DuckDBPyConnection, rows: duckdb.DuckDBPyRelation,
                      columns: Iterable[str], carried: Iterable[str] = ()) -> duckdb.DuckDBPyRelation:
    """`rows` (the `slim_events` columns `columns`, in table order, and the `carried` columns the params are
    extracted from: `event_params`) followed by each flattened param's column: the table's full row, for a
    positional insert."""
    names = [exp.column(name, quoted=True) for name in columns]
    flat = flat_columns(con, filled=False)
    select = [*names, *(exp.alias_(_filled_with(key, column, _extract_by_keys), column) for key, column in flat)]
    if any(not _listed(column) for _, column in flat):  # records are found through the event's keys
        rows = rows.project(", ".join(node.sql("duckdb") for node in
                                      [*names, *(exp.column(c, quoted=True) for c in carried), _keys()]))
    return rows.project(", ".join(node.sql("duckdb") for node in select))


def params_of(con: duckdb.DuckDBPyConnection, plan: QueryPlan) -> list[FlatParam]:
    """The event params a refresh of `plan` reads: its KPIs' (all in one statement), the attribution
    methods' check, the spec stamp (`event_stamps.py`) and the PII search of data quality (`quality.py`), kept
    between refreshes like the statements (`sql_texts.py`); a param is `listed` when it is read on a few
    events only (`generator.sql.scan.params_on_few_events`)."""
    text = kept_text(con, text_key("flat params", plan, None),
                     lambda: "\n".join(f"{p.key}\t{int(p.listed)}" for p in _params_of(plan)))
    lines = [line.rsplit("\t", 1) for line in text.split("\n")] if text else []
    return [FlatParam(key, listed == "1") for key, listed in lines]


def _params_of(plan: QueryPlan) -> list[FlatParam]:
    """A plan whose statement cannot be built gets none (its KPIs fail, each with its own message)."""
    try:
        statements = [build_plan_query(plan), build_methods_query()]
    except (ValueError, ArithmeticError, RecursionError):
        statements = [build_methods_query()]
    few = params_on_few_events(statements)
    keys = dict.fromkeys(key for statement in statements for key in params_read(statement))
    clicks = list(_CLICKS) if any(statement.find(EventClick) for statement in statements) else []
    sessions = [key for key, param in _SESSIONS.items()
                if any(node.name == param for statement in statements for node in statement.find_all(SessionParam))]
    fields = [field_key(path) for path in dict.fromkeys(f for statement in statements for f in fields_read(statement))]
    checks = [key for key in (STAMP_PARAM, PII_KEY) if key not in keys]  # read by every refresh's own checks
    return [*(FlatParam(key, key in few) for key in keys),
            *(FlatParam(key) for key in [*clicks, *sessions, *fields, *checks])]


def register(con: duckdb.DuckDBPyConnection, params: Iterable[FlatParam]) -> dict[str, str]:
    """Add a column for each param of `params` that has none yet (`kl_<n>` when `listed`, else `kp_<n>`),
    registered as not filled (in the caller's transaction); returns every registered (key, column), filled or
    not, which is what a load fills. A param keeps the column it has: both kinds read alike. A key that
    supersedes another (the same name before `VERSION_MARK`: a column the code now computes otherwise) drops the
    other's column: the refresh fills the new one from the raw files."""
    registered = dict(flat_columns(con, filled=False))
    new = list({p.key: p for p in params if p.key not in registered}.values())
    names = {_name(p.key) for p in new}
    for key in [key for key in registered if _name(key) in names]:  # computed by other code: made again
        _drop(con, key, registered.pop(key))
    # numbers after the last: a load inserts the columns by position, in the order of their numbers
    first = max((int(column[3:]) for column in registered.values()), default=0) + 1
    numbers = range(first, first + len(new))
    for param, n in zip(new, numbers, strict=True):
        column = f"{_prefix(param)}{n}"
        con.execute(_add_column(param.key, column).sql("duckdb"))
        con.execute("INSERT INTO flat_params VALUES ($key, $column, NULL)", {"key": param.key, "column": column})
        registered[param.key] = column
    return registered


def _name(key: str) -> str:
    """What a column holds, without how it is computed (`export_shape.VERSION_MARK`)."""
    return key.split(VERSION_MARK, 1)[0]


def _drop(con: duckdb.DuckDBPyConnection, key: str, column: str) -> None:
    con.execute(exp.Alter(this=exp.to_table(SLIM_TABLE), kind="TABLE",
                          actions=[exp.Drop(tables=[exp.column(column)], kind="COLUMN")]).sql("duckdb"))
    con.execute("DELETE FROM flat_params WHERE key = $key", {"key": key})


def _prefix(param: FlatParam) -> str:
    return (CLICK_COLUMN if param.key in _CLICKS else CHECK_COLUMN if param.key == PII_KEY
            else SESSION_COLUMN if param.key in _SESSIONS
            else FIELD_COLUMN if param.key.startswith(FIELD_KEY) else LISTED if param.listed else "kp_")


def mark_filled_if_whole(con: duckdb.DuckDBPyConnection, days: Iterable[str]) -> None:
    """Mark filled the registered columns not filled yet when `days`, which a load just (re)filled with every
    registered column, are every stored day (in the load's transaction): then no event lacks them."""
    (others,) = con.execute("SELECT count(*) FROM loaded_days WHERE NOT list_contains($days, event_date)",
                            {"days": list(days)}).fetchall()[0]
    if not others:
        con.execute("UPDATE flat_params SET flattened_at = $at WHERE flattened_at IS NULL", {"at": utc_now()})


def params_for_load(con: duckdb.DuckDBPyConnection, kpis: Path) -> list[FlatParam]:
    """The params a refresh of the KPI files in `kpis` will read (`params_of`), so that the load fills their
    columns as it inserts, and the refresh after it has nothing left to flatten; none when there is no such
    folder or its files have errors (the refresh reports those)."""
    if not kpis.is_dir():
        return []
    compiled = compile_paths([kpis])
    if compiled.report.errors:
        return []
    return params_of(con, compiled.plan)


def flatten(con: duckdb.DuckDBPyConnection, params: Iterable[FlatParam]) -> list[str]:
    """Make a column of every param in `params` that is not one yet and fill it for every stored event;
    returns the keys it filled.

    The columns are added and registered first (one transaction), then filled a group of days at a time (each
    its own transaction: one `UPDATE` of 10M events would need more memory than DuckDB's limit), and marked
    filled last: until then the SQL reads the list, so an interrupted fill is slower, never wrong, and the next
    refresh fills those columns again. Loads fill every registered column, filled or not."""
    params = list(params)
    registered = dict(flat_columns(con, filled=False))
    if any(p.key not in registered for p in params):
        with transaction(con):
            registered = register(con, params)
    todo = {key: column for key, column in registered.items() if key not in dict(flat_columns(con))}
    if not todo:
        return []
    update = _update(todo)
    for days in _day_groups(con):
        with transaction(con):
            con.execute(update, days_params(days))
    con.execute("UPDATE flat_params SET flattened_at = $at WHERE list_contains($keys, key)",
                {"at": utc_now(), "keys": list(todo)})
    return list(todo)


FILL_ROWS = 1_000_000
"""Events filled per transaction (a day more than this is filled alone)."""


def add_columns(con: duckdb.DuckDBPyConnection, columns: Iterable[tuple[str, str]]) -> None:
    """Add these registered (key, column) to a new `slim_events` (its migration from a table that had them)."""
    for key, column in columns:
        con.execute(_add_column(key, column).sql("duckdb"))


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


def _update(todo: dict[str, str]) -> str:
    """`UPDATE slim_events` setting the columns `todo` (key → column) of the days `$days` to what the raw files
    hold (`ga4_events`, matched by file and row): a re-extract, never a reload."""
    raw = exp.select(FILE, ROW, *(exp.alias_(_filled_with(key, column), column) for key, column in todo.items())
                     ).from_("ga4_events").where(exp.condition(IN_DAYS, dialect="duckdb"))
    update = exp.update(SLIM_TABLE, {column: exp.column(column, table="r") for column in todo.values()},
                        from_=exp.From(this=exp.alias_(exp.Subquery(this=raw), "r", table=True)),
                        where=exp.and_(*(exp.EQ(this=exp.column(c, table=SLIM_TABLE), expression=exp.column(c, table="r"))
                                         for c in (FILE, ROW)),
                                       exp.condition(IN_DAYS.replace("event_date", f"{SLIM_TABLE}.event_date"),
                                                     dialect="duckdb")))
    return update.sql("duckdb")


def _add_column(key: str, column: str) -> exp.Expr:
    kind = exp.DataType.build("VARCHAR" if column.startswith((CLICK_COLUMN, FIELD_COLUMN)) else "BOOLEAN"
                              if column.startswith(CHECK_COLUMN) else SESSION_PARAMS[_SESSIONS[key]]
                              if column.startswith(SESSION_COLUMN) else EVENT_PARAMS_TYPE if _listed(column)
                              else PARAM_VALUE_TYPE, dialect="duckdb")
    return exp.Alter(this=exp.to_table(SLIM_TABLE), kind="TABLE",
                     actions=[exp.ColumnDef(this=exp.to_identifier(column), kind=kind)])
