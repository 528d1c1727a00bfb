"""Many periods in one batch statement: the raw events, the attribution lookback and the history read once.

The `period` bucket (`buckets.py`) counts one range, `start_date` … `end_date`, as one row; the dashboard needs
about ten such ranges (each preset and its comparison periods), and one statement per range re-reads the
events, the 30 days of attribution lookback before it and the history before it each time.
`spread_over_periods` turns the batch statement of the `period` bucket into one that counts every range of a
list at once, with exactly the numbers each range's own statement gives:

1. the scan (`raw_events`, then `scanned_once`: the old `scanned_events`) reads the days of all the ranges
   once, extracting each param once per event; `scanned_events` then joins each event to every range it falls
   in (or whose conversion window reaches it), on its day, from the small `period_days` table (literals of
   the AST);
2. the keys that tie events together carry their range: `user_pseudo_id`, `session_key` and
   `transaction_id` become (range, key) pairs, so every grouping, window and join after the scan (sessions,
   their attribution, first-ever ranks, conversions, deduplicated purchases) stays inside one range, as in
   that range's own statement, without any of them being rewritten;
3. `event_day` is the range's key (`period_parameters.range_key`: ranges sharing a first day go in one
   statement) for the events up to its `period_end`, and NULL for the days after it that only a conversion
   window reads (their own day in the one-range statement). Each test `event_date <= end_date` (or
   `event_day <= end_date`) after the scan becomes `event_day IS NOT NULL`;
4. what is read from before a range's start (the transaction ids and first-ever users of earlier days, the
   sessions of the lookback) is read once, up to the latest start, and joined to the ranges it precedes:
   an id first seen before a range's start is "seen before" for that range, and so on. The history CTEs are
   found by the tag their builders put on them (`ctes.tag_history`).

The ranges are the statement's parameters, not its text (`period_parameters.py`): `$period_ranges`,
`$period_days` and `$lookback_days` hold the three small tables as lists of STRUCTs, `$history_end` and
`$lookback_from` / `$lookback_to` the history's last day and the lookback's days, and `$start_date` /
`$end_date` the first start and the last end of the ranges. So the text of a plan's periods statement is the
same every day (`warehouse/sql_texts.py` keeps it), though the dashboard's ranges move with the last loaded day.
DuckDB only (the pairs are STRUCTs, which BigQuery cannot group by). A plan with conversions of different
windows whose session tables differ (a session scope short of the widest) is refused (`PeriodsUnsupported`):
run one statement per range then.
"""

from __future__ import annotations

from sqlglot import exp

from .attribution import PRIOR_CLICKS
from .ctes import HISTORY, Cte, rename_tables
from .dialects import EventsRelation, ExportDateRange, LookbackUsers, session_user_hash
from .period_parameters import (
    DAY_FORMAT,
    HISTORY_END,
    LOOKBACK_DAYS_TABLE,
    LOOKBACK_FROM,
    LOOKBACK_TO,
    PERIOD_DAYS,
    RANGES,
)
from .rollup import SESSION_DAYS
from .scan import RAW, SCANNED
from .session_facts import FACTS, FACTS_ALIAS, fact, groupings_singly, merged_days
from .sessions import FIRSTS, PICKS
from .shared import EVENT_ROWS
from .zero_days import DATA_DATES, DATA_DAYS

PERIODS = "periods"
SCANNED_ONCE = "scanned_once"
PERIOD_USERS = "period_users"  # a table the caller provides (`spread_over_periods`)
USER_KEY = "user_key"  # its users' `hash(user_pseudo_id)`
PRIOR_CLICKS_ONCE = f"{PRIOR_CLICKS}_once"
KEYS = ("user_pseudo_id", "session_key", "transaction_id")


class PeriodsUnsupported(ValueError):
    """The statement has something the one-statement form cannot spread over ranges."""


def spread_over_periods(ctes: list[Cte], inline: list[str], hashed: bool = False, users: bool = False,
                        keyed: bool = False, users_by_id: bool = False, facts: exp.Expr | None = None) -> list[Cte]:
    """The batch statement's CTEs (of the `period` bucket) counting every range its parameters name at once
    (`period_parameters`); `inline` gains the names of the new CTEs that must not be stored.

    `users`: each range counts only its users in the table `period_users` (`period_day` DATE, `user_pseudo_id`
    TEXT, `user_key`: its `hash(user_pseudo_id)`, compared with `hashed`), which the caller provides: the
    events of the others are neither spread over it nor, when no range has them, extracted (nor their lookback
    clicks). What the history says (earlier transaction ids, first
    events) is read for every user. So each range's rows are its users' part of its numbers
    (`warehouse/period_shift.py`).

    `keyed` (with `users`): each user of `period_users` (`period_day` DATE, `user_pseudo_id` TEXT, `period_end`
    YYYYMMDD) is counted in that one range only, all of their events in it: for users none of whose events is
    outside it, nor in its lookback, nor in history another user's count depends on (`keyed_parameters`;
    `warehouse/period_spans.py`). Their events are spread by a join on the user, not on the day.

    `users_by_id` (with `users`): the events are read for those users by their ids (`_of_users`), for a table
    `period_users` of few of the data's users.

    `facts` (the scan's last day, YYYYMMDD): `session_days` spreads the warehouse's kept session days
    (`session_facts.FACTS`) over the ranges, not the events (`_spread_facts`). Their purchases count when their
    id was never seen before, by anyone: with `users`, the same as from the users' events only where each range's
    users hold every user sharing a transaction id with one of them (as `warehouse/period_shift.period_users`
    and the straddlers of `warehouse/period_spans.py` do)."""
    if keyed and not users:
        raise ValueError("`keyed` goes with `users`")
    if users_by_id and not users:
        raise ValueError("`users_by_id` goes with `users`")
    columns = {"event_date": "TEXT", "period_day": "DATE", "event_day": "DATE", "period_end": "TEXT",
               **({"day": "DATE"} if facts is not None else {})}
    days = [] if keyed else [(PERIOD_DAYS, _unnested(PERIOD_DAYS, columns))]
    by_hash = hashed and not users_by_id  # how `raw_events` and the lookback pick `period_users`' users
    ranges = {"period_day": "DATE", "period_start": "TEXT", "period_end": "TEXT"}
    out: list[Cte] = [(PERIODS, _unnested(RANGES, ranges)), *days,
                      (LOOKBACK_DAYS_TABLE, _unnested(LOOKBACK_DAYS_TABLE, {"event_date": "TEXT",
                                                                            "period_day": "DATE"}))]
    firsts = FIRSTS  # the session table's first events of the scope whose session CTEs read the lookback
    for name, body in ctes:
        kind = body.meta.get(HISTORY)
        if name == FIRSTS or name.startswith(f"{FIRSTS}_plus_"):
            firsts = name
        if name == RAW:
            out.append((name, _of_users(body, by_hash) if users else body))
        elif name == SCANNED:
            out += _fan_out(body, hashed, users, keyed)
            inline.append(SCANNED_ONCE)
        elif kind == "transactions":
            out.append((name, _earlier_ids(body, hashed)))
        elif kind == "first_ever_events":
            out.append((name, _history_events(body)))
        elif kind == "first_ever_users":
            out.append((name, _earlier_users(body, hashed)))
        elif kind == "prior_params":  # read by `prior_clicks` only
            lookback = _lookback_events(body, hashed)
            out.append((name, _of_users(lookback, by_hash) if users else lookback))
        elif kind == "prior_clicks":
            out += _lookback_clicks(name, body, hashed, users and not keyed, firsts)
        elif name == PICKS or name.startswith(f"{PICKS}_plus_"):  # an event's click: from its one row
            out.append((name, rename_tables(body.copy(), {SCANNED: SCANNED_ONCE})))
        elif name == SESSION_DAYS and facts is not None:
            out.append((name, _spread_facts(body, hashed, users, keyed, facts, users_by_id)))
        elif name == DATA_DATES:  # the ranges' days with data are found otherwise (`_ranges_with_data`)
            continue
        elif name == DATA_DAYS:
            out.append((name, _ranges_with_data()))
        elif name == EVENT_ROWS:  # with each event's period_end, for the scopes that read past it
            assert isinstance(body, exp.Select)
            out.append((name, _in_period(name, body.select("period_end"))))
        else:
            out.append((name, _in_period(name, body)))
    return groupings_singly(out) if facts is not None else out


def _ranges_with_data() -> exp.Select:
    """`data_days` of a periods statement: each range (its key, as `event_day`) with an event of anyone on one of
    its days. A range with data gets a total of 0 for a KPI none of whose events is in it (`zero_days.py`). Read
    from the events' days, not from the events spread over the ranges: over the users of `period_users` the
    spread events are theirs only, and finding their days joined every one of their events again (at 5M events
    0.37 of a keyed statement's 3.1 CPU s). A range's rows over some users are then a part of its numbers that
    also has a 0 total where none of those users has an event in it: the parts add up to the same numbers, and
    every range with data has its total from whichever part (`warehouse/period_shift.py`, `period_spans.py`)."""
    in_range = ExportDateRange(this=exp.Placeholder(this="start_date"), expression=exp.Placeholder(this="end_date"))
    days = exp.select("event_date").distinct().from_(EventsRelation()).where(in_range)
    holds = exp.Between(this=exp.column("event_date", table="d"), low=exp.column("period_start", table="p"),
                        high=exp.column("period_end", table="p"))
    return (exp.select(exp.alias_(exp.column("period_day", table="p"), "event_day")).distinct()
            .from_(exp.alias_(exp.to_table(PERIODS), "p", table=True))
            .join(exp.alias_(exp.Subquery(this=days), "d", table=True), on=holds))


def _unnested(parameter: str, columns: dict[str, str]) -> exp.Select:
    """The rows of the list-of-STRUCTs parameter `parameter`, with `columns` (name → type)."""
    rows = exp.Subquery(this=exp.select(exp.alias_(exp.Unnest(expressions=[exp.Placeholder(this=parameter)]), "r")),
                        alias=exp.TableAlias(this=exp.to_identifier("u")))
    return exp.select(*(exp.alias_(exp.cast(exp.column(name, table="r"), kind), name)
                        for name, kind in columns.items())).from_(rows)


def _p(name: str) -> exp.Column:
    return exp.column(name, table="p")


def _paired(key: exp.Expr) -> exp.Expr:
    """(the event's range, `key`), NULL when `key` is: the key of a unit inside one range."""
    pair = exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier("period"), expression=_p("period_day")),
                                   exp.PropertyEQ(this=exp.to_identifier("key"), expression=key)])
    return exp.Case(ifs=[exp.If(this=key.copy().is_(exp.null()).not_(), true=pair)])


def _pair(name: str, table: str, hashed: bool) -> exp.Expr:
    """The key `name` (one of `KEYS`) of the rows `table` paired with their range (NULL when it is NULL).

    `hashed`: a user is paired as `hash(user_pseudo_id)`, a fixed-width value (its session keys hold that hash
    already: `dialects._struct_session_key`), so every grouping, window and join after the scan compares
    numbers, not text: at 5M events the statement spilled 6.9 GB past DuckDB's 1 GB cap, 2.7 GB hashed.
    Exact where no two users share a hash, which the caller checks (`warehouse/statements.users_hash_apart`)."""
    key = exp.column(name, table=table)
    if not hashed or name != "user_pseudo_id":
        return _paired(key)
    pair = exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier("period"), expression=_p("period_day")),
                                   exp.PropertyEQ(this=exp.to_identifier("key"), expression=exp.func("HASH", key))])
    return exp.Case(ifs=[exp.If(this=key.copy().is_(exp.null()).not_(), true=pair)])


def _join_periods(select: exp.Select, on: exp.Expr, table: str = PERIODS) -> exp.Select:
    return select.join(exp.alias_(exp.to_table(table), "p", table=True), on=on, copy=False)


def _same_day(table: str) -> exp.Expr:
    return exp.EQ(this=exp.column("event_date", table=table), expression=_p("event_date"))


def _of_users(body: exp.Expr, hashed: bool) -> exp.Select:
    """`body` (a read of the events) for the users of `period_users` only, compared by `hash(user_pseudo_id)` or
    (not `hashed`) by the id itself. By the id, DuckDB filters the table's scan with the listed ids (a join filter
    pushed into it) and skips the other users' rows, where the hash is computed on every row first: when the
    listed users are few (a new day's shift over 90 days, 13 % of the events: 1.86 -> 1.60 CPU s a statement);
    for many of them the filter costs more than it skips (45 % of the events: 7.5 -> 8.1)."""
    assert isinstance(body, exp.Select)
    listed = exp.select(USER_KEY if hashed else "user_pseudo_id").from_(PERIOD_USERS)
    return body.where(exp.In(this=_user(exp.column("user_pseudo_id"), hashed), query=exp.Subquery(this=listed)))


def _user(column: exp.Column, hashed: bool) -> exp.Expr:
    """What a user is compared by with `period_users`: its `user_key` (`hash(user_pseudo_id)`), where no two users
    share one (`hashed`: a number compares cheaper than a text), else the id."""
    return exp.func("HASH", column) if hashed else column


def _same_user(table: str, hashed: bool, event: str = "s") -> exp.Expr:
    """The event of `event` is the user of `period_users` aliased `table`."""
    return exp.EQ(this=exp.column(USER_KEY if hashed else "user_pseudo_id", table=table),
                  expression=_user(exp.column("user_pseudo_id", table=event), hashed))


def _of_range_users(spread: exp.Select, event: str, hashed: bool) -> exp.Select:
    """`spread` (rows of `event` joined to their range `p`) kept where the user is one of the range's users in
    `period_users`."""
    theirs = exp.and_(exp.EQ(this=exp.column("period_day", table="u"), expression=_p("period_day")),
                      _same_user("u", hashed, event))
    return spread.join(exp.alias_(exp.to_table(PERIOD_USERS), "u", table=True), on=theirs, join_type="semi",
                       copy=False)


def _fan_out(scanned: exp.Expr, hashed: bool, users: bool = False, keyed: bool = False) -> list[Cte]:
    """`scanned_once` (each event once, as the one-range scan has it) and `scanned_events` (per event, each of
    its ranges), with the keys paired with the range (`_pair`) and `event_day` the range's key; with `users`,
    only the events of each range's users (`period_users`); `keyed`: each event in its user's one range."""
    assert isinstance(scanned, exp.Select)
    names = scanned.named_selects

    def column(name: str) -> exp.Expr:
        value: exp.Expr = exp.column(name, table="s")
        if name == "event_day":
            value = _p("period_day" if keyed else "event_day")
        elif name in KEYS:
            value = _pair(name, "s", hashed)
        return exp.alias_(value, name)

    once = scanned.copy()
    once.set("expressions", [s for s in once.expressions if s.alias_or_name != "event_day"])
    spread = exp.select(*(column(n) for n in names), _p("period_end")).from_(
        exp.alias_(exp.to_table(SCANNED_ONCE), "s", table=True))
    if keyed:  # the user's range holds every event of theirs the scan reads
        return [(SCANNED_ONCE, once), (SCANNED, _join_periods(spread, _same_user("p", hashed), PERIOD_USERS))]
    spread = _join_periods(spread, _same_day("s"), PERIOD_DAYS)
    return [(SCANNED_ONCE, once), (SCANNED, _of_range_users(spread, "s", hashed) if users else spread)]


def _spread_facts(body: exp.Expr, hashed: bool, users: bool, keyed: bool, last: exp.Expr, few: bool = False,
                  ) -> exp.Query:
    """`session_days` from the kept session days (`session_facts.FACTS`) of `$start_date` … `last`, each
    joined to its ranges as `scanned_events` joins the events (`_fan_out`: on its day, or with `keyed` on its
    user), keyed by (range, key) and regrouped (`session_facts.merged_days`); `few` (with `users`): the listed
    users are few (`users_by_id`), and their kept days are picked before the join."""
    key = fact("session_key")
    user = session_user_hash(key.copy()) if hashed else exp.Dot(this=key.copy(),
                                                                 expression=exp.to_identifier("user_pseudo_id"))

    def same_user(table: str) -> exp.Expr:
        return exp.EQ(this=exp.column(USER_KEY if hashed else "user_pseudo_id", table=table), expression=user.copy())

    def visitor(column: exp.Expr) -> exp.Expr:
        return _paired(exp.func("HASH", column) if hashed else column)

    def day(value: exp.Expr) -> exp.Expr:
        return exp.StrToDate(this=value, format=exp.Literal.string(DAY_FORMAT))

    source = exp.select().from_(exp.alias_(exp.to_table(FACTS), FACTS_ALIAS, table=True))
    if keyed:
        source = _join_periods(source, same_user("p"), PERIOD_USERS)
        event_day = _p("period_day")
    else:
        source = _join_periods(source, exp.EQ(this=_p("day"), expression=fact("event_day")), PERIOD_DAYS)
        if users:
            theirs = exp.and_(exp.EQ(this=exp.column("period_day", table="u"), expression=_p("period_day")),
                              same_user("u"))
            source = source.join(exp.alias_(exp.to_table(PERIOD_USERS), "u", table=True), on=theirs,
                                 join_type="semi", copy=False)
        event_day = _p("event_day")
    kept = exp.and_(key.copy().is_(exp.null()).not_(),
                    exp.Between(this=fact("event_day"), low=day(exp.Placeholder(this="start_date")),
                                high=day(last.copy())))
    if users and few and not keyed:  # the listed users' days before each is joined to its ranges: a kept day is
        # in 5-6 ranges of a new day's shift, and the join spread every user's (at 180 days of history 6.6M rows,
        # where the users' own are 0.6M; the statement 1.22 -> 1.15 CPU s); of many users (a full count's users
        # across range edges, 40 % of them) picking them cost more than it saved (1.05 -> 1.12)
        listed = exp.select(USER_KEY if hashed else "user_pseudo_id").from_(PERIOD_USERS)
        kept = exp.and_(kept, exp.In(this=user.copy(), query=exp.Subquery(this=listed)))
    source = source.where(kept, copy=False)
    return merged_days(body, {"event_day": event_day, "session_key": _paired(key.copy())}, source, visitor)


def _history_ends(node: exp.Expr) -> exp.Expr:
    """`node` with `$start_date` replaced by `$history_end` (a history read up to the day before the latest
    start)."""
    def replace(n: exp.Expr) -> exp.Expr:
        return exp.Placeholder(this=HISTORY_END) if isinstance(n, exp.Placeholder) and n.name == "start_date" else n
    return node.transform(replace)


def _first_days(body: exp.Expr) -> exp.Select:
    """`body` (one key column, DISTINCT, of the days before `$start_date`), read up to the day before
    `$history_end`, as (key, the first day it was seen)."""
    assert isinstance(body, exp.Select)
    grouped = _history_ends(body)
    assert isinstance(grouped, exp.Select)
    grouped.set("distinct", None)
    value = grouped.expressions[0]
    table = next((c.table for c in value.find_all(exp.Column) if c.table), None)
    first = exp.alias_(exp.Min(this=exp.column("event_date", table=table)), "first_day")
    return grouped.select(first, copy=False).group_by(value.this.copy() if isinstance(value, exp.Alias) else
                                                      value.copy(), copy=False)


def _paired_after(firsts: exp.Select, key: str, hashed: bool) -> exp.Select:
    """Per range, the keys of `firsts` first seen before its start, paired with it."""
    f = exp.alias_(exp.Subquery(this=firsts), "f", table=True)
    before = exp.LT(this=exp.column("first_day", table="f"), expression=_p("period_start"))
    return _join_periods(exp.select(exp.alias_(_pair(key, "f", hashed), key)).from_(f), before)


def _earlier_ids(body: exp.Expr, hashed: bool) -> exp.Select:
    """`earlier_transactions` per range: the ids a purchase carried before the range's start."""
    return _paired_after(_first_days(body), "transaction_id", hashed)


def _history_events(body: exp.Expr) -> exp.Expr:
    """A first-ever measure's events before `$start_date`, with their day, up to the day before `$history_end`."""
    read = _history_ends(body)
    assert isinstance(read, exp.Select)
    return read.select("event_date", copy=False)


def _earlier_users(body: exp.Expr, hashed: bool) -> exp.Select:
    """A first-ever measure's users with a matching event before each range's start (paired with it)."""
    assert isinstance(body, exp.Select)
    firsts = body.copy()
    firsts.set("distinct", None)
    value = firsts.expressions[0]
    firsts = firsts.select(exp.alias_(exp.Min(this=exp.column("event_date", table=value.table or None)),
                                      "first_day"), copy=False).group_by(value.copy(), copy=False)
    return _paired_after(firsts, "user_pseudo_id", hashed)


def _lookback_events(body: exp.Expr, hashed: bool) -> exp.Expr:
    """`prior_params` over the lookbacks of every range at once, with each event's day (of every user from the
    first range's start on whose clicks a session of a range may carry: each click is kept for its ranges' users
    by the spread, `_lookback_clicks`)."""
    read = body.copy()
    for node in read.find_all(ExportDateRange):
        node.set("this", exp.Placeholder(this=LOOKBACK_FROM))
        node.set("expression", exp.Placeholder(this=LOOKBACK_TO))
    for users in list(read.find_all(LookbackUsers)):
        users.replace(_of_any_range(users, hashed))
    assert isinstance(read, exp.Select)
    return read.select("event_date", copy=False)


def _of_any_range(users: LookbackUsers, hashed: bool) -> exp.Expr:
    """`LookbackUsers` where the session table's visitor is paired with its range (`_pair`): the user is one
    of them in any range (their clicks are kept for those ranges only, `_lookback_clicks`). At 180 days of
    history the last 7 days and the 7 before them, counted in full: the lookback's clicks of every user were
    47,715 rows grouped per session after the join, 0.74 -> 0.67 CPU s the statement, the same rows."""
    user = users.this.copy()
    listed = users.expression.copy()
    listed.this.set("expressions", [exp.Dot(this=exp.column("visitor"), expression=exp.to_identifier("key"))])
    return exp.In(this=exp.func("HASH", user) if hashed else user, query=listed)


def _lookback_clicks(name: str, body: exp.Expr, hashed: bool, users: bool = False, firsts: str = FIRSTS,
                     ) -> list[Cte]:
    """`prior_clicks` computed once per event (`prior_clicks_once`), then per range whose lookback holds it, for
    the range's users only: a click carries into a range's sessions of the same user only, so the others' were
    grouped per session and range for nothing. With `users`, the range's users in `period_users` (at 5M events,
    the biggest statement over listed users grouped 978,000 lookback sessions instead of 390,000); else the
    users with a session in the range (`firsts`: the `session_firsts` of the scope that reads the lookback, the
    first with a session table: `session_firsts_plus_2d` when only a conversion's window reads sessions; two
    7-day ranges counted in full at 5M events grouped 424,000 lookback sessions; the statement went from 2.05
    to 1.48 CPU s)."""
    assert isinstance(body, exp.Select)
    once = body.select("event_date")
    names = body.named_selects
    spread = exp.select(*(exp.alias_(_pair(n, "c", hashed) if n in KEYS else exp.column(n, table="c"), n)
                          for n in names)).from_(exp.alias_(exp.to_table(PRIOR_CLICKS_ONCE), "c", table=True))
    spread = _join_periods(spread, _same_day("c"), LOOKBACK_DAYS_TABLE)
    if users:
        return [(PRIOR_CLICKS_ONCE, once), (name, _of_range_users(spread, "c", hashed))]
    visitor = exp.EQ(this=exp.column("visitor", table="f"), expression=_pair("user_pseudo_id", "c", hashed))
    in_range = spread.join(exp.alias_(exp.to_table(firsts), "f", table=True), on=visitor, join_type="semi",
                           copy=False)
    return [(PRIOR_CLICKS_ONCE, once), (name, in_range)]


def _ends_range(node: exp.Expr) -> bool:
    """True for `$end_date` or that day as a DATE."""
    if isinstance(node, exp.StrToDate):
        node = node.this
    return isinstance(node, exp.Placeholder) and node.name == "end_date"


def _in_period(name: str, body: exp.Expr) -> exp.Expr:
    """`body` with each `event_date <= $end_date` (or `event_day <= …`) as `event_day IS NOT NULL`; a scope
    reading a few days past the end (a shorter conversion window than the widest) filters `event_rows` on
    its `period_end`."""
    def replace(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.LTE) and _ends_range(node.expression) and isinstance(node.this, exp.Column) \
                and node.this.name in ("event_date", "event_day"):
            return exp.column("event_day", table=node.this.table or None).is_(exp.null()).not_()
        return node

    body = body.transform(replace, copy=False)
    if {t.name for t in body.find_all(exp.Table)} == {EVENT_ROWS}:
        body = body.transform(lambda n: exp.column("period_end") if isinstance(n, exp.Placeholder)
                              and n.name == "end_date" else n, copy=False)
    left = next((p for p in body.find_all(exp.Placeholder)), None)
    if left is not None:
        raise PeriodsUnsupported(f"{name} reads ${left.name} in a way one statement cannot spread over ranges "
                                 f"(a second conversion window?): {left.parent.sql() if left.parent else ''}")
    return body
