"""Session KPIs in a batch: the events grouped per day and session once, shared by every KPI that counts sessions.

A KPI whose measures all count sessions (`sessions`, `sessions_with`, `engaged_sessions`) counts, per day and
breakdown value, the distinct sessions having an event that meets each measure's flag. Its own statement does
that with COUNT(DISTINCT session_key) over every event row, once per grouping set and measure. Here:

1. `session_days`: the scope's events grouped once by day, session and every event-scoped breakdown value
   (device, country, …) the KPIs show, with one BOOL_OR per flag (and, when the scope needs the session
   table, the partial aggregates it is built from: `sessions.session_partials`);
2. per granularity (no event-scoped breakdown, for the totals and the session-scoped breakdowns such as
   channel; or one event-scoped breakdown): those groups reduced to one row per day, session and that
   breakdown's value, joined to the session table for what belongs to the session (channel, engagement);
3. per KPI and grouping set, a plain COUNT of the flagged rows of its granularity: each session is one
   row there, so this is the number of distinct sessions, without a COUNT(DISTINCT).

So a KPI rolls up when every breakdown and every condition of its flags (a flag is an AND of conditions)
reads either the event alone or the session alone (the session table and the event's session key): the
first kind is in the groups, the second is the same for all of a session's events. Duplicate purchases: a
KPI that reads `purchase` counts only the events `kept_events` keeps, so its flags also require `is_kept`
(`flagged_events`), which marks exactly those events.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlglot import exp

from ..plan.queries import RatioQuery, SimpleQuery
from .build import FIRST_PURCHASE_ORDER, PURCHASE, MeasureParts
from .ctes import Cte
from .scan import EVENTS_ALIAS, SESSIONS_ALIAS
from .session_facts import SESSION_GROUPING
from .sessions import session_partials
from .transactions import join_earlier, not_seen_before

SESSION_DAYS = "session_days"
SESSION_DAY_ROWS = "session_day_rows"
FLAGGED = "flagged_events"
SESSION_UNITS = ("sessions", "sessions_with", "engaged_sessions")
TOTAL = ""  # the granularity without an event-scoped breakdown
_PURCHASES = "p"


def rolls_up(parts: MeasureParts) -> bool:
    """True for a KPI the roll-up can count (see the module's docstring)."""
    if not isinstance(parts.query, SimpleQuery | RatioQuery) or any(m.kind not in SESSION_UNITS for _, m in parts.roles):
        return False
    if any(m.first_ever for _, m in parts.roles):  # a user's first event is found over all its events, not per session
        return False
    pieces = [_select(parts, alias) for _, alias in parts.breakdowns]
    pieces += [c for role, _ in parts.roles for c in _conjuncts(_select(parts, f"is_{role}"))]
    return all(_level(p) is not None for p in pieces)


@dataclass
class RolledUp:
    """A KPI counted from the roll-up."""

    prefix: str
    parts: MeasureParts


class Rollup:
    """The roll-up of the `events` (their columns: `event_columns`) for the KPIs that `rolls_up`.

    With `session_columns`, `session_days` also carries the session table's partial aggregates, so the session
    tables are built from it (`sessions.firsts_from_partials`) instead of from the events; then it groups every
    event, even with no KPI to count. `purchases` holds the same purchases as `events` (and fewer other
    events). When the events go past `end_date` (for a conversion), `upto` is `end_date`: the KPIs counted here
    read the days up to it, and their purchases are deduplicated among those days. `rows`: the session
    partials keep event rows (`sessions.session_ctes`), with `ids` click ids.
    """

    def __init__(self, kpis: list[RolledUp], events: str, event_columns: list[str],
                 session_columns: set[str] | None = None, purchases: str | None = None,
                 upto: exp.Expr | None = None, rows: bool = False, ids: bool = False) -> None:
        self.kpis = kpis
        self.columns: dict[str, str] = {}  # breakdown value's SQL → its column
        self.event_keys: dict[str, exp.Expr] = {}  # column → event-scoped breakdown value
        self.session_values: dict[str, exp.Expr] = {}  # column → session-scoped breakdown value
        self.flags: dict[str, list[exp.Expr]] = {}  # flag column → its conditions on the session
        bools: list[exp.Expr] = []
        for kpi in kpis:
            for _, alias in kpi.parts.breakdowns:
                value = _select(kpi.parts, alias)
                if value.sql() not in self.columns:
                    # named after the value, the same in every statement (kept session days: `session_facts.py`)
                    column = self.columns[value.sql()] = f"by_{hashlib.sha1(value.sql().encode()).hexdigest()[:12]}"
                    target = self.event_keys if _level(value) == "event" else self.session_values
                    target[column] = value
            for role, _ in kpi.parts.roles:
                flag = f"{kpi.prefix}__is_{role}"
                conjuncts = _conjuncts(_select(kpi.parts, f"is_{role}"))
                on_event = [c for c in conjuncts if _level(c) == "event"]
                if kpi.parts.dedupe:
                    on_event.append(exp.column("is_kept", table=EVENTS_ALIAS))
                bools.append(exp.alias_(exp.LogicalOr(this=_all(on_event)), flag))
                self.flags[flag] = [c for c in conjuncts if _level(c) == "session"]

        self.shared: list[Cte] = []
        dedupe = any(k.parts.dedupe for k in kpis)
        source = FLAGGED if dedupe else events
        keys = [exp.column("event_day", table=EVENTS_ALIAS), exp.column("session_key", table=EVENTS_ALIAS)]
        days = (exp.select(*(k.copy() for k in keys), *(exp.alias_(v.copy(), c) for c, v in self.event_keys.items()),
                           *bools)
                .from_(exp.alias_(exp.to_table(source), EVENTS_ALIAS, table=True), copy=False)
                .group_by(*keys, *(v.copy() for v in self.event_keys.values()), copy=False))
        if session_columns:
            days = days.select(*session_partials(session_columns, rows, ids))
        elif self.events() is not None:
            wanted = [exp.Literal.string(n) for n in sorted(self.events() or ())]
            days = days.where(exp.column("event_name", table=EVENTS_ALIAS).isin(*wanted))
        used = {c.name for c in days.find_all(exp.Column)} | ({"event_name", "transaction_id", "event_timestamp"}
                                                              if dedupe else set())
        self.reads = [c for c in event_columns if c in used]  # the event columns the roll-up reads
        if dedupe:
            in_range = None if upto is None else exp.LTE(this=exp.column("event_date"), expression=upto)
            self.shared.append((source, flagged_events(events, purchases or events, self.reads, in_range)))
        self.shared.append((self.days, days))

    def events(self) -> set[str] | None:
        """The events the KPIs read; None when one of them reads every event."""
        read = [k.parts.events for k in self.kpis]
        return None if any(r is None for r in read) else set().union(*read)  # type: ignore[arg-type]

    @property
    def days(self) -> str:
        return SESSION_DAYS

    def _granularities(self) -> list[str]:
        """TOTAL, then each event-scoped breakdown column a KPI shows."""
        return [TOTAL, *self.event_keys]

    def _rows_name(self, granularity: str) -> str:
        return f"{SESSION_DAY_ROWS}{'_' + granularity if granularity else ''}"

    def rows(self, sessions: str, days: str) -> list[Cte]:
        """Per granularity: one row per day, session (and breakdown value), with the session's attributes.

        `days` holds the groups of `session_days` of the days the KPIs read.
        """
        ctes: list[Cte] = []
        for granularity in self._granularities():
            keys = ["event_day", "session_key", *([granularity] if granularity else [])]
            source = days
            if list(self.event_keys) != keys[2:]:  # the groups have other event-scoped values: reduce them
                source = f"{SESSION_DAYS}_{granularity or 'total'}"
                reduced = exp.select(*keys, *(exp.alias_(exp.LogicalOr(this=exp.column(f)), f) for f in self.flags))
                reduced = reduced.from_(days).group_by(*keys)
                reduced.meta[SESSION_GROUPING] = True  # read from kept session days, a one-row session is its row
                ctes.append((source, reduced))
            rows = exp.select(
                *(exp.column(k, table=EVENTS_ALIAS) for k in keys),
                *(exp.alias_(v.copy(), c) for c, v in self.session_values.items()),
                *(exp.alias_(_all([exp.column(f, table=EVENTS_ALIAS), *on_session]), f)
                  for f, on_session in self.flags.items()),
            ).from_(exp.alias_(exp.to_table(source), EVENTS_ALIAS, table=True), copy=False)
            if any(c.table == SESSIONS_ALIAS for c in rows.find_all(exp.Column)):
                on = exp.EQ(this=exp.column("session_key", table=SESSIONS_ALIAS),
                            expression=exp.column("session_key", table=EVENTS_ALIAS))
                rows = rows.join(exp.alias_(exp.to_table(sessions), SESSIONS_ALIAS, table=True), on=on,
                                 join_type="left")
            ctes.append((self._rows_name(granularity), rows))
        return ctes

    def aggregated(self) -> dict[str, exp.Query]:
        """Each KPI's `aggregated` (event_day, breakdown, breakdown_value, numerator, denominator), by prefix."""
        bodies: dict[str, exp.Query] = {}
        for kpi in self.kpis:
            flags = {role: f"{kpi.prefix}__is_{role}" for role, _ in kpi.parts.roles}
            counts = [_sessions(flags[role]) for role, _ in kpi.parts.roles]
            numerator, denominator = counts[0], (counts[1] if len(counts) > 1 else exp.null())
            counted = exp.or_(*(exp.column(f) for f in flags.values()))
            sets: list[tuple[str, str | None]] = [("", None)]  # (breakdown name, its column)
            sets += [(name, self.columns[_select(kpi.parts, alias).sql()]) for name, alias in kpi.parts.breakdowns]
            parts: list[exp.Select] = []
            for name, column in sets:
                granularity = column if column in self.event_keys else TOTAL
                label: list[exp.Expr] = [exp.Literal.string(name), exp.column(column)] if column else [
                    exp.Literal.string(""), exp.Literal.string("")]
                part = exp.select(
                    "event_day", exp.alias_(label[0], "breakdown"), exp.alias_(label[1], "breakdown_value"),
                    exp.alias_(numerator.copy(), "numerator"), exp.alias_(denominator.copy(), "denominator"),
                ).from_(self._rows_name(granularity)).where(counted.copy())
                parts.append(part.group_by("event_day", *([column] if column else [])))
            body: exp.Query = parts[0]
            for part in parts[1:]:
                body = exp.union(body, part, distinct=False)
            bodies[kpi.prefix] = body
        return bodies


def flagged_events(source: str, purchases: str, columns: list[str], in_range: exp.Expr | None = None) -> exp.Select:
    """The events (their `columns`) with `is_kept`: true for exactly the events `build.kept_events` keeps.

    `purchases` holds the same purchases as `source` (and fewer other events). With `in_range`, the purchases
    it holds for are deduplicated among themselves (those are the days the KPIs read).
    """
    name = exp.column("event_name")
    is_purchase = exp.EQ(this=name, expression=exp.Literal.string(PURCHASE))
    others = exp.select(*columns, exp.alias_(name.copy().is_(exp.null()).not_(), "is_kept")).from_(source).where(
        exp.NullSafeNEQ(this=name.copy(), expression=exp.Literal.string(PURCHASE)))
    first_of_id = exp.EQ(
        this=exp.Window(this=exp.RowNumber(),
                        partition_by=[exp.column("transaction_id"), *([in_range] if in_range is not None else [])],
                        order=exp.Order(expressions=[exp.Ordered(this=exp.column(c)) for c in FIRST_PURCHASE_ORDER])),
        expression=exp.Literal.number(1),
    )
    # an id a purchase carried before `start_date` never counts again (`transactions.py`)
    kept = _of_purchases(exp.or_(exp.column("transaction_id").is_(exp.null()), first_of_id))
    kept_purchases = exp.select(*(exp.column(c, table=_PURCHASES) for c in columns),
                                exp.alias_(exp.and_(kept, not_seen_before()), "is_kept")).from_(
        exp.alias_(exp.to_table(purchases), _PURCHASES, table=True))
    kept_purchases = join_earlier(kept_purchases, _PURCHASES).where(_of_purchases(is_purchase))
    return exp.union(others, kept_purchases, distinct=False)  # type: ignore[return-value]


def _of_purchases(condition: exp.Expr) -> exp.Expr:
    """`condition` with its columns read from the purchases (not from the ids they are joined to)."""
    def qualify(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and not node.table:
            return exp.column(node.name, table=_PURCHASES)
        return node

    return condition.copy().transform(qualify, copy=False)


def _sessions(flag: str) -> exp.Expr:
    """The sessions whose row has `flag` (rows are one per session here); like COUNT(DISTINCT), no NULL key."""
    counted = exp.and_(exp.column(flag), exp.column("session_key").is_(exp.null()).not_())
    return exp.Count(this=exp.Case(ifs=[exp.If(this=counted, true=exp.Literal.number(1))]))


def _select(parts: MeasureParts, alias: str) -> exp.Expr:
    for projection in parts.rows.expressions:
        if projection.alias_or_name == alias:
            return projection.this if isinstance(projection, exp.Alias) else projection
    raise KeyError(alias)


def _conjuncts(flag: exp.Expr) -> list[exp.Expr]:
    return list(flag.flatten()) if isinstance(flag, exp.And) else [flag]


def _all(conditions: list[exp.Expr]) -> exp.Expr:
    conditions = [c.copy() for c in conditions]
    return exp.and_(*conditions) if len(conditions) > 1 else (conditions[0] if conditions else exp.true())


def _level(expr: exp.Expr) -> str | None:
    """`event` when `expr` reads only the event, `session` when only the session (and the session key)."""
    columns = list(expr.find_all(exp.Column))
    if not any(c.table == SESSIONS_ALIAS for c in columns):
        return "event"
    if {c.name for c in columns if c.table == EVENTS_ALIAS} <= {"session_key"}:
        return "session"
    return None
