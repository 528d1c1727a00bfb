"""The session table: one row per session, with the attributes GA4 gives a session.

There is no session table in the export (ga4.md §7, §10). A session is a distinct
(`user_pseudo_id`, `ga_session_id`) pair (`scanned_events.session_key`), and its attributes come from
its first events:

- source / medium / campaign: GA4's last non-direct click (`attribution.py`): `session_traffic_source_last_click`
  where the export has it, else the session's first UTM / Google Ads click, else the click the same user's
  previous session within the lookback carries; none means `(direct)` / `(none)`.
- channel: GA4's own channel group where the export has it (`cross_channel_campaign`), else GA4's default
  channel group rules on that source, medium and campaign (`channels.py`).
- landing page: the path of the session's first `page_view`.
- engaged: 1 when any of its events carries `session_engaged` = 1 (GA4 sends it as the string "1", some
  tags as the number 1).

Only the columns a KPI reads are built. Without traffic columns, only from the events that carry something
(a page view, the engaged flag): a session with none of them is not in the table, and the KPI's rows read it
as not engaged (`scan.EventColumns`); with traffic columns every session is in it (a direct session may
carry an earlier click). Attributes are those of the session's first event *in the days the
query reads*: a session that began the day before `start_date` is described by its first event on
`start_date`.
"""

from __future__ import annotations

from collections.abc import Set

from sqlglot import exp

from .attribution import (
    CARRIED,
    CLICK,
    LAST_CLICK,
    TRAFFIC_COLUMNS,
    attribution_method,
    carried_ctes,
    kept_prior_ctes,
    prior_ctes,
    record,
    session_attribution,
)
from .channels import default_channel_group, source_category
from .dimensions import DIRECT
from .scan import EVENT_ROW, SCANNED
from .session_facts import SESSION_GROUPING

FIRSTS = "session_firsts"
FIRST_ROWS = "session_first_rows"
PICKS = "session_picks"
KEPT_CLICKS = {"last_click": "kept_last_clicks", "click": "kept_clicks"}
"""The warehouse's tables of the clicks kept session days name by their ids (`click_id`; `session_facts.py`):
each (`event_row` the id, the click's record under the click's name)."""
SOURCES = "session_sources"
CATEGORIES = "session_categories"
SESSIONS = "sessions"
CHANNEL_INPUTS = "channel_inputs"
CHANNELS = "session_channels"
ATTRIBUTED = "session_attributed"
PAIRS, PAIR_RECORDS, PAIR_CHANNELS = "session_pairs", "session_pair_records", "session_pair_channels"
PAIR_IDS = ("last_click_id", "carried_id")
"""The columns of a pair (`PAIRS`): the ids of a session's GA4 last click and of the click it carries (`KEPT_CLICKS`),
either NULL; a statement reading click ids attributes each distinct pair once (`session_ctes` with `ids`)."""
METHOD = "method"
"""A session column a statement counting the attribution methods asks for (`attribution_methods.day_values`):
which branch of the attribution gave the session its channel (`attribution.attribution_method`), computed where
the session's sources are, so that counting the methods reads the session table alone, not `session_attributed`
beside it: at 5M events a full refresh's two daily statements 3.47 -> 3.00 CPU s (three traced pairs, the same
rows), and the refresh's peak memory 1,036 -> 930 MB (`session_attributed` no longer kept for the count)."""
ATTRIBUTION = TRAFFIC_COLUMNS | {METHOD}
"""The session columns the attribution gives (the rest come from the session's own events)."""


def _lit(text: str) -> exp.Literal:
    return exp.Literal.string(text)


def session_ctes(columns: set[str], firsts: exp.Select | None = None,
                 channel_per_source: bool = False, batch: bool = False,
                 rows: bool = False, ids: bool = False) -> list[tuple[str, exp.Query]]:
    """The CTEs ending in `sessions` (keyed by `session_key`) with the requested columns.

    `firsts` replaces the grouping of the events by session (`firsts_from_partials`, with the same `rows`);
    with `channel_per_source` the channel rules run once per distinct source, medium and campaign, not per
    session; `batch`: the session key is a `SessionKey` (as in the batch statement's scan); `rows`: the scan
    has each event's `event_row` (`ExportShape.event_rows`): the grouping keeps the row of the session's first
    click (`session_first_rows`), whose record is read from that row alone (`session_picks`): an ARG_MIN of a
    number holds less than one of a record of four texts in every group (at 5M events each KPI statement
    12-18 % fewer CPU seconds, the same rows); with `ids` (and `channel_per_source`), the clicks are not event
    rows but ids (`click_id`) of the records the warehouse keeps (`KEPT_CLICKS`): they stay ids through the
    carrying of clicks, and the attribution is computed once per distinct pair of ids (`_pair_records`,
    `_sessions_of_pairs`). `METHOD` among `columns` (with `channel`): the sessions carry their attribution
    method too.
    """
    traffic = bool(columns & TRAFFIC_COLUMNS)
    if METHOD in columns and not traffic:
        raise ValueError("a session's attribution method comes with its channel: ask for both")
    rows = rows and traffic
    if firsts is None:
        firsts = exp.select("session_key").from_(SCANNED).group_by("session_key")
        for name, value, when in _facts(columns, rows, ids):
            first = (_engaged() if value is None else exp.AnyValue(this=value) if name == VISITOR
                     else _first(value, when=when))
            firsts = firsts.select(exp.alias_(first, name))
        # Only those events are grouped (few: the first hits of campaign visits, page views, engaged hits);
        # a session with none of them is missing from the table, and `EventColumns` reads it as direct.
        informative = [when for _, _, when in _facts(columns, rows, ids)]
        firsts = firsts.where(exp.and_(exp.column("session_key").is_(exp.null()).not_(), exp.or_(*informative)))
    if not traffic:
        return [(SESSIONS, firsts)]
    by_ids = rows and ids
    if by_ids and not channel_per_source:
        raise ValueError("a session table reading click ids runs the channel rules once per source")
    ctes: list[tuple[str, exp.Query]] = (
        [(FIRSTS, firsts)] if by_ids or not rows else _picked(columns, firsts))

    # the lookback's sessions: from the kept session days where the statement reads those (their clicks are ids)
    prior = kept_prior_ctes(FIRSTS) if by_ids else prior_ctes(batch, FIRSTS)
    ctes += [*prior, *carried_ctes(FIRSTS)]
    f, c = exp.to_identifier("f"), exp.to_identifier("c")
    attributed = (exp.select(exp.Column(this=exp.Star(), table=f), exp.column("carried", table="c"))
                  .from_(exp.alias_(exp.to_table(FIRSTS), "f", table=True))
                  .join(exp.alias_(exp.to_table(CARRIED), "c", table=True), join_type="left",
                        on=exp.EQ(this=exp.column("session_key", table=f), expression=exp.column("session_key", table=c))))
    ctes.append((ATTRIBUTED, attributed))
    # the session's own attributes the KPIs read and its attribution: not the attribution's inputs (it is stored)
    attribution = [exp.alias_(value, name) for name, value in session_attribution(DIRECT).items()]
    if METHOD in columns:
        attribution.append(exp.alias_(attribution_method(), METHOD))
    if by_ids:  # attributed once per distinct pair of click ids, each record read once
        ctes += _pair_records()
        sources = exp.select(*PAIR_IDS, *attribution, copy=False).from_(PAIR_RECORDS)
    else:
        sources = exp.select(*_kept(columns, ATTRIBUTION), *attribution, copy=False).from_(ATTRIBUTED)
    lowered = {name: exp.Lower(this=exp.column(name)) for name in ("source", "medium", "campaign")}
    # the big CASEs are built once here, so no builder call copies them (copy=False)
    categories = exp.select("*", exp.alias_(source_category(lowered["source"]), "source_category"), copy=False)
    if channel_per_source:
        inputs = exp.select("source", "medium", "campaign").distinct().from_(SOURCES)
        ctes += [(SOURCES, sources), (CHANNEL_INPUTS, inputs)]
        categories = categories.from_(CHANNEL_INPUTS, copy=False)
    else:
        ctes.append((SOURCES, sources))
        categories = categories.from_(SOURCES, copy=False)
    channel = default_channel_group(lowered["source"], lowered["medium"], lowered["campaign"],
                                    exp.column("source_category"))
    if not channel_per_source:
        ga4_first = exp.func("COALESCE", exp.column("ga4_channel"), channel)  # GA4's own channel group wins
        sessions = exp.select(*_kept(columns, {"channel"}), exp.alias_(ga4_first, "channel"), copy=False).from_(
            CATEGORIES, copy=False)
        return [*ctes, (CATEGORIES, categories), (SESSIONS, sessions)]
    channels = exp.select("source", "medium", "campaign", exp.alias_(channel, "channel"), copy=False)
    on = exp.and_(*(exp.EQ(this=exp.column(c, table="c"), expression=exp.column(c, table="t"))
                    for c in ("source", "medium", "campaign")))
    ga4_first = exp.func("COALESCE", exp.column("ga4_channel", table="t"), exp.column("channel", table="c"))
    # a row per session, or with `by_ids` per pair of click ids (`PAIR_CHANNELS`)
    attributes = ((*PAIR_IDS, *sorted(columns & ATTRIBUTION - {"channel"})) if by_ids
                  else ("session_key", *sorted(columns - {"channel"})))
    with_channel = (exp.select(*(exp.column(name, table="t") for name in attributes), exp.alias_(ga4_first, "channel"))
                    .from_(exp.alias_(exp.to_table(SOURCES), "t", table=True))
                    .join(exp.alias_(exp.to_table(CHANNELS), "c", table=True), on=on))
    ctes += [(CATEGORIES, categories), (CHANNELS, channels.from_(CATEGORIES, copy=False))]
    if not by_ids:
        return [*ctes, (SESSIONS, with_channel)]
    return [*ctes, (PAIR_CHANNELS, with_channel), (SESSIONS, _sessions_of_pairs(columns))]


def _picked(columns: set[str], firsts: exp.Select) -> list[tuple[str, exp.Query]]:
    """`session_firsts` from `firsts` whose `last_click` and `click` are event rows (`_facts` with `rows`): each
    row's record read from the scan, for those rows only (`session_picks`)."""
    picked = {name: _click_record(name)[0] for name in KEPT_CLICKS}
    chosen = exp.union(*(exp.select(name).from_(FIRST_ROWS) for name in picked), distinct=False)
    picks = (exp.select(EVENT_ROW, *(exp.alias_(value, name) for name, value in picked.items()))
             .from_(SCANNED).where(exp.column(EVENT_ROW).isin(query=chosen)))
    f = exp.alias_(exp.to_table(FIRST_ROWS), "f", table=True)
    joined = exp.select(*(exp.column(name, table=name if name in picked else "f")
                          for name in ["session_key", *(n for n, _, _ in _facts(columns))])).from_(f)
    for name in picked:
        on = exp.EQ(this=exp.column(EVENT_ROW, table=name), expression=exp.column(name, table="f"))
        joined = joined.join(exp.alias_(exp.to_table(PICKS), name, table=True), on=on, join_type="left")
    return [(FIRST_ROWS, firsts), (PICKS, picks), (FIRSTS, joined)]


def _pair_records() -> list[tuple[str, exp.Query]]:
    """`session_pairs` (each distinct pair of a session's GA4 last click and carried click, as ids: `PAIR_IDS`)
    and `session_pair_records` (the pair with each click's record, from `KEPT_CLICKS`): the attribution is a
    function of the two records, so it is computed once per pair, not once per session."""
    ids = zip(("last_click", "carried"), PAIR_IDS, strict=True)
    pairs = exp.select(*(exp.alias_(exp.column(c), a) for c, a in ids)).distinct().from_(ATTRIBUTED)
    records = exp.select(*(exp.column(a, table="p") for a in PAIR_IDS),
                         exp.alias_(exp.column("last_click", table="l"), "last_click"),
                         exp.alias_(exp.column("click", table="c"), "carried")).from_(
        exp.alias_(exp.to_table(PAIRS), "p", table=True))
    for alias, table, pair_id in (("l", KEPT_CLICKS["last_click"], PAIR_IDS[0]), ("c", KEPT_CLICKS["click"], PAIR_IDS[1])):
        on = exp.EQ(this=exp.column(EVENT_ROW, table=alias), expression=exp.column(pair_id, table="p"))
        records = records.join(exp.alias_(exp.to_table(table), alias, table=True), on=on, join_type="left")
    return [(PAIRS, pairs), (PAIR_RECORDS, records)]


def _sessions_of_pairs(columns: set[str]) -> exp.Select:
    """`sessions` from `session_attributed` and its pair's attribution (`session_pair_channels`), joined on the
    two click ids (either may be NULL): at 5M events a periods statement 10-13 % fewer CPU seconds than reading
    both records for every session and running the channel join per session (replayed, the same rows)."""
    kept = ["session_key", *sorted(columns - {"channel"}), "channel"]
    on = exp.and_(*(exp.NullSafeEQ(this=exp.column(pair_id, table="p"), expression=exp.column(name, table="a"))
                    for pair_id, name in zip(PAIR_IDS, ("last_click", "carried"), strict=True)))
    return (exp.select(*(exp.column(name, table="p" if name in ATTRIBUTION else "a") for name in kept))
            .from_(exp.alias_(exp.to_table(ATTRIBUTED), "a", table=True))
            .join(exp.alias_(exp.to_table(PAIR_CHANNELS), "p", table=True), on=on))


def _click_record(name: str) -> tuple[exp.Expr, exp.Expr]:
    """The click `name` (`last_click`: GA4's own, `click`: the event's own) as a record, and whether it is set."""
    return record("lc", LAST_CLICK) if name == "last_click" else record("click", CLICK)


def click_id(name: str) -> exp.Expr:
    """The id of the click `name` (`last_click`, `click`) an event carries: a hash of its record and its name,
    the same wherever it is computed (the warehouse checks that no two of its records share one)."""
    return exp.func("HASH", exp.Literal.string(name), _click_record(name)[0])


def click_records(name: str, source: str) -> exp.Select:
    """Each distinct click `name` of the events of `source` with its id (`click_id`), as `KEPT_CLICKS` holds them."""
    value, present = _click_record(name)
    return (exp.select(exp.alias_(click_id(name), EVENT_ROW), exp.alias_(value, name)).distinct()
            .from_(source).where(present))


def _kept(columns: set[str], without: Set[str]) -> list[exp.Column]:
    """The session key and the session columns the KPIs read (`columns`) but `without` (those the CTE adds
    itself): not the attribution's inputs (the clicks, the visitor, the start), which a DuckDB CTE read twice
    stores and which were most of its size."""
    kept = ["session_key", *sorted(columns - without)]
    return [exp.column(name) for name in kept]


def _facts(columns: set[str], rows: bool = False, ids: bool = False) -> list[tuple[str, exp.Expr | None, exp.Expr]]:
    """(attribute, its value on an event, the events that carry it); value None for `engaged` (a MAX); `rows`:
    a click's value is its event's row (`session_ctes`), with `ids` its id (`click_id`)."""
    facts: list[tuple[str, exp.Expr | None, exp.Expr]] = []
    if columns & TRAFFIC_COLUMNS:
        # every session: its user and start (a direct session may carry the user's earlier click)
        facts.append((VISITOR, exp.column("user_pseudo_id"), exp.true()))
        facts.append(("started", exp.column("event_timestamp"), exp.true()))
        for name, prefix, fields in (("last_click", "lc", LAST_CLICK), ("click", "click", CLICK)):
            value, present = record(prefix, fields)
            facts.append((name, click_id(name) if rows and ids else exp.column(EVENT_ROW) if rows else value, present))
    if "landing_page" in columns:
        page = exp.func("COALESCE", exp.column("page_path"), _lit("(not set)"))
        facts.append(("landing_page", page, exp.EQ(this=exp.column("event_name"), expression=_lit("page_view"))))
    if "engaged" in columns:
        facts.append(("engaged", None, exp.column("is_engaged")))
    return facts


def _engaged() -> exp.Expr:
    return exp.Max(this=exp.Case(ifs=[exp.If(this=exp.column("is_engaged"), true=exp.Literal.number(1))],
                                 default=exp.Literal.number(0)))


PARTIAL = "session_"
VISITOR = "visitor"
"""The session's user: the same on every event of a session (its key holds it), so any event's, not the first's:
`ANY_VALUE`, without the time an `ARG_MIN` compares (the start's time says when the session was first seen)."""


def session_partials(columns: set[str], rows: bool = False, ids: bool = False) -> list[exp.Expr]:
    """Aggregates for a grouping finer than the session (by day, say), from which `firsts_from_partials`
    gives the same `session_firsts` as grouping the events by session: each attribute's earliest value in
    the group and when it was seen (`session_<name>`, `session_<name>_at`), and `session_engaged`; `rows`, `ids`:
    as for `session_ctes`."""
    out: list[exp.Expr] = []
    for name, value, when in _facts(columns, rows, ids):
        if value is None:
            out.append(exp.alias_(_engaged(), f"{PARTIAL}{name}"))
            continue
        if name == VISITOR:
            out.append(exp.alias_(exp.AnyValue(this=value), f"{PARTIAL}{name}"))
            continue
        at = exp.Case(ifs=[exp.If(this=when, true=exp.column("event_timestamp"))])
        if not _is_time(value):  # the start is its own time: `_at` alone
            out.append(exp.alias_(exp.ArgMin(this=value, expression=at), f"{PARTIAL}{name}"))
        out.append(exp.alias_(exp.Min(this=at.copy()), f"{PARTIAL}{name}_at"))
    return out


def firsts_from_partials(columns: set[str], source: str, rows: bool = False) -> exp.Select:
    """`session_firsts` (or `sessions`, without traffic) from the groups of `source` with `session_partials`
    (of the same `rows`: then its clicks are event rows, for `session_ctes`)."""
    firsts = exp.select("session_key").from_(source).group_by("session_key")
    informative: list[exp.Expr] = []
    for name, value, _ in _facts(columns, rows):
        column = exp.column(f"{PARTIAL}{name}")
        if value is None:
            firsts = firsts.select(exp.alias_(exp.Max(this=column), name))
            informative.append(exp.EQ(this=column.copy(), expression=exp.Literal.number(1)))
            continue
        if name == VISITOR:  # every event's (the start's time tells whether the group holds any)
            firsts = firsts.select(exp.alias_(exp.AnyValue(this=column), name))
            continue
        at = exp.column(f"{PARTIAL}{name}_at")
        first = exp.Min(this=at.copy()) if _is_time(value) else exp.ArgMin(this=column, expression=at)
        firsts = firsts.select(exp.alias_(first, name))
        informative.append(at.copy().is_(exp.null()).not_())
    firsts = firsts.where(exp.and_(exp.column("session_key").is_(exp.null()).not_(), exp.or_(*informative)))
    firsts.meta[SESSION_GROUPING] = True  # read from kept session days, a one-row session is not grouped
    return firsts


def _first(value: exp.Expr, when: exp.Expr) -> exp.Expr:
    """`value` at the earliest event for which `when` holds (ARG_MIN in DuckDB, MIN_BY in BigQuery).

    Rows where `when` is false get a NULL ordering value, which both engines skip; `value` itself must not
    be NULL on the other rows (the engines differ on NULL values), which the callers ensure.
    """
    at = exp.Case(ifs=[exp.If(this=when, true=exp.column("event_timestamp"))])
    return exp.Min(this=at) if _is_time(value) else exp.ArgMin(this=value, expression=at)


def _is_time(value: exp.Expr) -> bool:
    """True for the event's own timestamp (the session's start): its earliest value is a MIN, one aggregate
    state fewer per session than an ARG_MIN of it by itself."""
    return isinstance(value, exp.Column) and value.name == "event_timestamp" and not value.table
