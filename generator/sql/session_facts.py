"""Session days kept between statements: the events grouped per day and session once, read by every statement after.

A batch statement's `session_days` (`rollup.py`) groups its events by day, session and event-scoped breakdown
value, with one flag per KPI measure and the partial aggregates of the session table (`sessions.session_partials`).
Each of those rows depends on that day's events only, and on the transaction ids seen before it (a purchase is
kept when its id was never seen earlier, `rollup.flagged_events`: the same for every range holding the day, since
an id's first purchase is kept in every range holding it and any later one in none). So the warehouse keeps the
rows of every loaded day in the table `session_facts` (`facts_query`, over the plan's KPIs), and:

- the KPIs' statement per day reads its `session_days` from there (`build_plan_query(..., facts=True)`);
- a periods statement (`periods.spread_over_periods`) spreads those rows over its ranges instead of the events:
  about one row per six events (at 5M events, 851,000 rows), regrouped per range and session (`merged_days`);
- both read the sessions of the attribution lookback from them too (`attribution.kept_prior_ctes`): a kept row
  holds its session's first click of the day, as an id, and when it was seen.

Regrouping is exact: a flag is an OR over the day rows, a session's first value is the ARG_MIN of the days' first
values by their first times, its start the MIN of theirs (as `sessions.firsts_from_partials` does). Rows of
sessions without a key are counted nowhere (`rollup._sessions`, `sessions.firsts_from_partials`), so a spread over
ranges leaves them out. A session of one kept row (`SINGLE`: most are) is its own group: its row is read as it
is, in `session_days` and in the session table grouped from them (`single_or_grouped`).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from .ctes import Cte

FACTS = "session_facts"
"""The warehouse's table of session days: the rows of `facts_query`, every column of its `session_days`, and
`SINGLE`."""
SINGLE = "session_single"
"""A kept row's flag: TRUE when it is its session's only row in the table (one day, one value of each
event-scoped breakdown), which the warehouse keeps (`warehouse/session_facts.py`); FALSE (or NULL) says
nothing. A statement takes such a row as its session's group as it is, where it groups the others
(`single_or_grouped`): most sessions are one row (every one of the demo's), and grouping them again was about
a third of each periods statement (at 5M events 1.28 -> 0.92, 1.33 -> 1.03 and 1.80 -> 1.40 CPU s, the same
rows)."""
SESSION_GROUPING = "session_grouping"
"""The `meta` key marking a CTE that groups `session_days` by session, or finer: the session table
(`sessions.firsts_from_partials`), a granularity's rows per day and session (`rollup.Rollup.rows`); where
`session_days` holds `SINGLE`, `single_or_grouped` splits it."""
FACTS_ALIAS = "f"
KEYS = ("event_day", "session_key")
VISITOR = "session_visitor"  # the partial holding the session's user (`sessions.session_partials`)


class FactsUnsupported(ValueError):
    """The statement's `session_days` has a column the regrouping of kept session days cannot merge."""


def fact(name: str) -> exp.Column:
    return exp.column(name, table=FACTS_ALIAS)


def merged_days(body: exp.Expr, keys: dict[str, exp.Expr], source: exp.Select,
                visitor: Callable[[exp.Expr], exp.Expr] | None = None, regroup: bool = True) -> exp.Query:
    """`session_days` (of the columns `body` gives, and `SINGLE`) from the kept rows that `source` reads (aliased
    `f`): `keys` the `event_day` and `session_key` expressions; every other plain column a group key read from
    `f`, every aggregate merged (`FactsUnsupported` for one that cannot be); `visitor`: the session's user as
    this statement keys it, from the kept one; a session of one kept row read as it is, not grouped
    (`single_or_grouped`). Without `regroup` (the rows are those the statement would group, no more: the same
    keys, the same breakdown values), the columns are only read."""
    assert isinstance(body, exp.Select)
    out = _merged(body, keys, source, visitor, regroup)
    if regroup:
        return single_or_grouped(out, fact(SINGLE), exp.false())
    return out.select(exp.alias_(fact(SINGLE), SINGLE), copy=False)


def _merged(body: exp.Select, keys: dict[str, exp.Expr], source: exp.Select,
            visitor: Callable[[exp.Expr], exp.Expr] | None, regroup: bool) -> exp.Select:
    """`merged_days` without `SINGLE`: every row grouped (`regroup`) or read."""
    names = body.named_selects
    out = source
    groups: list[exp.Expr] = []
    for projection in body.expressions:
        name = projection.alias_or_name
        value = projection.this if isinstance(projection, exp.Alias) else projection
        column = fact(name)
        if name in keys:
            merged: exp.Expr = keys[name].copy()
            groups.append(merged.copy())
        elif not value.find(exp.AggFunc):  # an event-scoped breakdown value
            merged = column
            groups.append(column.copy())
        elif not regroup:
            merged = visitor(column) if visitor is not None and name == VISITOR else column
        elif isinstance(value, exp.LogicalOr):
            merged = exp.LogicalOr(this=column)
        elif isinstance(value, exp.Min):
            merged = exp.Min(this=column)
        elif isinstance(value, exp.Max):
            merged = exp.Max(this=column)
        elif isinstance(value, exp.AnyValue):
            merged = exp.AnyValue(this=visitor(column) if visitor is not None and name == VISITOR else column)
        elif isinstance(value, exp.ArgMin) and f"{name}_at" in names:
            merged = exp.ArgMin(this=column, expression=fact(f"{name}_at"))
        else:
            raise FactsUnsupported(f"session_days' {name} ({value.sql()}) cannot be merged from kept session days")
        out = out.select(exp.alias_(merged, name), copy=False)
    return out.group_by(*groups, copy=False) if regroup else out


def single_or_grouped(grouped: exp.Select, flag: exp.Expr, grouped_flag: exp.Expr | None = None) -> exp.Query:
    """`grouped` (a GROUP BY whose groups are sessions, or finer) as the groups of the rows whose `flag` is not
    TRUE, and the rows whose `flag` is TRUE each as the one-row group it is (every aggregate of one row is its
    value); `grouped_flag`: the value of `SINGLE` in the grouped rows, added to both (TRUE in the others), for
    a grouping of those rows in turn."""
    one = grouped.copy()
    one.set("group", None)
    one.set("expressions", [exp.alias_(_of_one_row(p.this if isinstance(p, exp.Alias) else p), p.alias_or_name)
                            for p in one.expressions])
    one = one.where(flag.copy(), copy=False)
    many = grouped.copy().where(exp.Is(this=flag.copy(), expression=exp.true()).not_(), copy=False)
    if grouped_flag is not None:
        one = one.select(exp.alias_(exp.true(), SINGLE), copy=False)
        many = many.select(exp.alias_(grouped_flag, SINGLE), copy=False)
    return exp.union(many, one, distinct=False)


def _of_one_row(value: exp.Expr) -> exp.Expr:
    """An aggregate of `session_days` over one row, as that row's value; a plain column as it is."""
    aggregate = value.this if isinstance(value, exp.IgnoreNulls) else value
    if not aggregate.find(exp.AggFunc):
        return value.copy()
    if isinstance(aggregate, (exp.LogicalOr, exp.Min, exp.Max, exp.AnyValue)):
        return aggregate.this.copy()
    if isinstance(aggregate, exp.ArgMin):  # NULL where the ordering value is (as ARG_MIN skips such a row)
        return exp.Case(ifs=[exp.If(this=aggregate.expression.copy().is_(exp.null()).not_(),
                                    true=aggregate.this.copy())])
    raise FactsUnsupported(f"{value.sql()} cannot be read from one kept session day")


def groupings_singly(ctes: list[Cte]) -> list[Cte]:
    """`ctes` (whose `session_days` are read from the kept session days, with `SINGLE`) with each CTE grouping
    them by session or finer (`SESSION_GROUPING`) taking a one-row session as it is (`single_or_grouped`)."""
    return [(name, single_or_grouped(body, exp.column(SINGLE)) if isinstance(body, exp.Select)
             and body.meta.get(SESSION_GROUPING) else body) for name, body in ctes]


def facts_statement(ctes: list[Cte]) -> tuple[exp.Select, list[Cte]]:
    """The statement giving the rows of `session_days` (`facts_query`), and the CTEs it reads (the others are left
    out)."""
    select = exp.select("*").from_("session_days")
    return select, read_by(ctes, select)


def read_by(ctes: list[Cte], select: exp.Expr) -> list[Cte]:
    """The CTEs `select` reads, directly or through others, in their order."""
    bodies = dict(ctes)
    wanted: set[str] = set()
    stack = [t.name for t in select.find_all(exp.Table)]
    while stack:
        name = stack.pop()
        if name in bodies and name not in wanted:
            wanted.add(name)
            stack += [t.name for t in bodies[name].find_all(exp.Table)]
    return [(name, body) for name, body in ctes if name in wanted]
