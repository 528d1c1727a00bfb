"""A session's source, medium, campaign and channel the way GA4 attributes them, on every export era.

GA4 attributes a session by **last non-direct click** (ga4.md §9, §11), and what the export holds to follow it
depends on when the day was exported:

1. since July 2024, `session_traffic_source_last_click`: GA4's own answer, the same on every event of the
   session. Its `cross_channel_campaign` (since October 2024) carries GA4's `default_channel_group`, which then
   *is* the channel; else `manual_campaign` (then `google_ads_campaign`) gives source / medium / campaign, and
   the channel rules (`channels.py`) run on them.
2. otherwise (older days, intraday tables): derived here. A session's click is the first of its events with a
   UTM source / medium / campaign or a Google Ads click id, from `collected_traffic_source` (mid-2023 on) or
   the `utm_*` / `gclid` query parameters of `page_location`. A session without one is direct, unless the same
   user had a session with a click within the last `LOOKBACK_DAYS`: then it carries that click (last
   non-direct click). `traffic_source` (the user's *first* acquisition) is never used for a session.

Per event the scan computes the candidates (`click_columns`, `last_click_columns`); per session the session
table keeps the first of each (`sessions.py`); `carried_ctes` finds the click a direct session carries, over
the sessions of the query's days and the `prior_sessions` of the `LOOKBACK_DAYS` before them (`prior_ctes`; in a
statement reading the warehouse's kept session days, from those: `kept_prior_ctes`).

Limits, stated: UTM values are taken as they appear in the URL (not percent-decoded: BigQuery has no URL
decoder); referrer-only visits (organic search, referrals without UTM) cannot be recognised before
`session_traffic_source_last_click` exists and count as direct (or carry an earlier click), as in dbt-ga4.
"""

from __future__ import annotations

from sqlglot import exp

from .ctes import tag_history
from .dialects import (
    ClickInput,
    EventClick,
    EventsRelation,
    ExportColumn,
    ExportDateRange,
    FlatClick,
    KeptDayRange,
    LastClick,
    LookbackUsers,
    SessionKey,
    SessionParam,
    SessionValue,
    UrlParam,
    flat_click_alias,
    text_session_key,
)
from .export_shape import CLICK
from .params import as_string, param_record, session_value
from .session_facts import FACTS, VISITOR

TRAFFIC_COLUMNS = frozenset({"channel", "source", "medium", "campaign"})
"""The session columns that come from the session's attribution."""

LOOKBACK_DAYS = 30
"""How far back a direct session looks for the user's last click (GA4's acquisition lookback; dbt-ga4's default)."""

LAST_CLICK = ("source", "medium", "campaign", "channel")
PRIOR_PARAMS, PRIOR_CLICKS, PRIOR = "prior_params", "prior_clicks", "prior_sessions"
KEPT_LOOKBACK, PRIOR_IDS = "kept_lookback", "prior_click_ids"  # `kept_prior_ctes`'
PRIOR_CTES = (KEPT_LOOKBACK, PRIOR_PARAMS, PRIOR_CLICKS, PRIOR_IDS, PRIOR)  # the same for every scope of a batch
CLICKS, CARRYING, CARRIED = "session_clicks", "session_carrying", "session_carried"
_DATE_FORMAT = "%Y%m%d"
_MICROS_PER_DAY = 86_400_000_000


def _lit(text: str) -> exp.Literal:
    return exp.Literal.string(text)


def _dot(record: exp.Expr, *path: str) -> exp.Expr:
    node = record
    for name in path:
        node = exp.Dot(this=node.copy(), expression=exp.to_identifier(name))
    return node


def _utm(url: exp.Expr, name: str) -> exp.Expr:
    """The query parameter `name` of a URL, NULL when absent or empty."""
    return UrlParam(this=url.copy(), expression=_lit(name))


def _blank_is_null(value: exp.Expr) -> exp.Expr:
    return exp.Nullif(this=value, expression=_lit(""))


def click_values(page_location: exp.Expr, cts: exp.Expr) -> dict[str, exp.Expr]:
    """Per event: the click it collected (`cts`: its `collected_traffic_source`, else the URL's UTM / gclid),
    each field an `EventClick`: read from the warehouse's column of it where the relation below selects one
    (`flat_clicks`)."""
    return {name: EventClick(this=_lit(name), expression=value) for name, value in click_computed(page_location, cts).items()}


def click_computed(page_location: exp.Expr, cts: exp.Expr) -> dict[str, exp.Expr]:
    """What `click_values` computes from the event's URL and `collected_traffic_source` (a load fills the
    warehouse's columns with it: `warehouse/flat_params.py`)."""
    fields = {"source": ("manual_source", "utm_source"), "medium": ("manual_medium", "utm_medium"),
              "campaign": ("manual_campaign_name", "utm_campaign"), "gclid": ("gclid", "gclid")}
    return {name: exp.func("COALESCE", _blank_is_null(_dot(cts, field)), _utm(page_location, query))
            for name, (field, query) in fields.items()}


def flat_clicks() -> list[exp.Expr]:
    """For a projection over the events relation: each click field's column, where the warehouse has one, as
    the `EventClick`s above it read it (none elsewhere)."""
    return [exp.alias_(FlatClick(this=_lit(name)), flat_click_alias(name)) for name in CLICK]


def last_click_values() -> dict[str, exp.Expr]:
    """Per event: GA4's own session attribution, NULL fields where the export has none (each a `LastClick`: the
    warehouse's column of it where it keeps one)."""
    lc = ExportColumn(this=_lit("session_traffic_source_last_click"))
    cross = ExportColumn(this=_lit("session_traffic_source_last_click.cross_channel_campaign"))
    manual, ads = _dot(lc, "manual_campaign"), _dot(lc, "google_ads_campaign")
    has_cross = exp.or_(_dot(cross, "source").is_(exp.null()).not_(),
                        _dot(cross, "default_channel_group").is_(exp.null()).not_())
    has_manual = exp.or_(_dot(manual, "source").is_(exp.null()).not_(), _dot(manual, "medium").is_(exp.null()).not_())
    has_ads = exp.or_(_dot(ads, "campaign_id").is_(exp.null()).not_(), _dot(ads, "campaign_name").is_(exp.null()).not_())

    def pick(cross_value: exp.Expr, manual_value: exp.Expr, ads_value: exp.Expr) -> exp.Expr:
        return exp.Case(ifs=[exp.If(this=has_cross.copy(), true=cross_value),
                             exp.If(this=has_manual.copy(), true=manual_value),
                             exp.If(this=has_ads.copy(), true=ads_value)])

    values = {
        "source": pick(_dot(cross, "source"), _dot(manual, "source"), _lit("google")),
        "medium": pick(_dot(cross, "medium"), _dot(manual, "medium"), _lit("cpc")),
        "campaign": pick(_dot(cross, "campaign_name"), _dot(manual, "campaign_name"), _dot(ads, "campaign_name")),
        "channel": pick(_dot(cross, "default_channel_group"), exp.null(), exp.null()),
    }
    return {name: LastClick(this=_lit(name), expression=value) for name, value in values.items()}


def record(prefix: str, fields: tuple[str, ...]) -> tuple[exp.Expr, exp.Expr]:
    """(a STRUCT of the event's `<prefix>_<field>` columns, the condition that any of them is set)."""
    columns = [exp.column(f"{prefix}_{f}") for f in fields]
    struct = exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier(f), expression=c)
                                     for f, c in zip(fields, columns, strict=True)])
    present = exp.func("COALESCE", *(c.copy() for c in columns)).is_(exp.null()).not_()
    return struct, present


def _start_minus(days: int) -> exp.Expr:
    fmt = exp.Literal.string(_DATE_FORMAT)
    moved = exp.DateSub(this=exp.StrToDate(this=exp.Placeholder(this="start_date"), format=fmt),
                        expression=exp.Literal.number(days), unit=exp.var("DAY"))
    return exp.TimeToStr(this=moved, format=fmt.copy())


def prior_ctes(batch: bool, firsts: str) -> list[tuple[str, exp.Select]]:
    """`prior_params` … `prior_sessions`: the sessions with a click in the `LOOKBACK_DAYS` before `start_date`,
    as (key, user, start, click), of the users with a session of `firsts` that may carry one (`carrying_users`)."""
    # the params first, in a CTE of their own: the session key is lowered after its inputs (dialects.py)
    params = (exp.select("user_pseudo_id", "event_timestamp",
                         exp.alias_(ClickInput(this=ExportColumn(this=_lit("collected_traffic_source"))),
                                    "collected_traffic_source"),
                         exp.alias_(SessionParam(this=_lit("ga_session_id")), "session_id"),
                         exp.alias_(ClickInput(this=param_record("page_location")), "page_location"), *flat_clicks())
              .from_(EventsRelation())
              .where(ExportDateRange(this=_start_minus(LOOKBACK_DAYS), expression=_start_minus(1)))
              .where(LookbackUsers(this=exp.column("user_pseudo_id"),
                                   expression=exp.Subquery(this=_carrying(firsts)))))
    user = exp.column("user_pseudo_id")
    session_id = SessionValue(this=exp.column("session_id"), expression=session_value("ga_session_id", exp.column("session_id")),
                              param=_lit("ga_session_id"))
    key = SessionKey(this=user, expression=session_id) if batch else text_session_key(user.copy(), session_id)
    location = as_string(exp.column("page_location"))
    clicks = exp.select(
        exp.alias_(key, "session_key"), "user_pseudo_id", "event_timestamp",
        *(exp.alias_(v, f"click_{k}") for k, v in click_values(location, exp.column("collected_traffic_source")).items()),
    ).from_(PRIOR_PARAMS)
    struct, present = record("click", CLICK)
    at = exp.Case(ifs=[exp.If(this=present.copy(), true=exp.column("event_timestamp"))])
    sessions = (exp.select("session_key", exp.alias_(exp.Min(this=exp.column("user_pseudo_id")), "visitor"),
                           exp.alias_(exp.Min(this=at.copy()), "started"),
                           exp.alias_(exp.ArgMin(this=struct, expression=at), "click"))
                .from_(PRIOR_CLICKS)
                .where(exp.and_(exp.column("session_key").is_(exp.null()).not_(), present,
                                carrying_users(exp.column("user_pseudo_id"), firsts)))
                .group_by("session_key"))
    return [(PRIOR_PARAMS, tag_history(params, "prior_params")), (PRIOR_CLICKS, tag_history(clicks, "prior_clicks")),
            (PRIOR, sessions)]


def kept_prior_ctes(firsts: str) -> list[tuple[str, exp.Query]]:
    """`prior_ctes` from the warehouse's kept session days (`session_facts.FACTS`), not the events: the same
    (key, user, start, click) of the same sessions, in a statement that reads those (`sessions.session_ctes`
    with `ids`). A kept row holds its session's first click of its day as an id (`session_click`, of the
    records in `sessions.KEPT_CLICKS`) and when it was seen (`session_click_at`); the earliest over the
    lookback's rows is the first click of its events, kept as its id (`click`: the session table reads each
    distinct record once, `sessions.session_ctes`). At 180 days of history the lookback read every event of
    the ranges' lookbacks, for the clicks of a few users (0.41 of a new day's shift's 1.5 CPU s); the kept rows
    are about one per six events, and only those of sessions with a click are read.

    The same CTE names and tags as `prior_ctes` (the periods statement spreads them the same way,
    `periods._lookback_events`), and two more: `kept_lookback` (the kept rows with a click, each with its date)
    and `prior_click_ids` (each session's first click as an id)."""
    day = exp.TimeToStr(this=exp.column("event_day"), format=exp.Literal.string(_DATE_FORMAT))
    kept = (exp.select("event_day", exp.alias_(day, "event_date"), "session_key", exp.alias_(exp.column(VISITOR), "user_pseudo_id"),
                       exp.alias_(exp.column("session_click_at"), "event_timestamp"),
                       exp.alias_(exp.column("session_click"), "click_id"))
            .from_(FACTS).where(exp.and_(exp.column("session_click").is_(exp.null()).not_(),
                                         exp.column("session_key").is_(exp.null()).not_())))
    params = (exp.select("session_key", "user_pseudo_id", "event_timestamp", "click_id").from_(KEPT_LOOKBACK)
              .where(KeptDayRange(this=_start_minus(LOOKBACK_DAYS), expression=_start_minus(1)))
              .where(LookbackUsers(this=exp.column("user_pseudo_id"),
                                   expression=exp.Subquery(this=_carrying(firsts)))))
    rows = exp.select("session_key", "user_pseudo_id", "event_timestamp", "click_id").from_(PRIOR_PARAMS)
    at = exp.column("event_timestamp")
    ids = (exp.select("session_key", exp.alias_(exp.Min(this=exp.column("user_pseudo_id")), "visitor"),
                      exp.alias_(exp.Min(this=at.copy()), "started"),
                      exp.alias_(exp.ArgMin(this=exp.column("click_id"), expression=at.copy()), "click_id"))
           .from_(PRIOR_CLICKS)
           .where(carrying_users(exp.column("user_pseudo_id"), firsts))
           .group_by("session_key"))
    sessions = exp.select("session_key", "visitor", "started", exp.alias_(exp.column("click_id"), "click")).from_(PRIOR_IDS)
    return [(KEPT_LOOKBACK, kept), (PRIOR_PARAMS, tag_history(params, "prior_params")),
            (PRIOR_CLICKS, tag_history(rows, "prior_clicks")), (PRIOR_IDS, ids), (PRIOR, sessions)]


def carrying_users(user: exp.Expr, firsts: str) -> exp.Expr:
    """`user` has a session of `firsts` without GA4's own attribution (`last_click`): only such a session is
    attributed to a click carried from an earlier session (`session_attribution`: `last_click` wins), so only
    such users' clicks need carrying. In an export with `session_traffic_source_last_click` nearly every
    session has it (99 % of the demo's): the carrying window then sorts a few users' sessions, not every
    user's (the week statement at 5M events 7.7 -> 7.0 CPU s, the same rows); in older eras every user's."""
    return exp.In(this=user, query=exp.Subquery(this=_carrying(firsts)))


def _carrying(firsts: str) -> exp.Select:
    """The users of the sessions of `firsts` without GA4's own attribution (`carrying_users`)."""
    return exp.select("visitor").from_(firsts).where(exp.column("last_click").is_(exp.null()))


def carried_ctes(firsts: str) -> list[tuple[str, exp.Query]]:
    """`session_clicks` … `session_carried`: per session of `firsts` without GA4's own attribution, the click
    it is attributed to (its record, or its id where `firsts` holds ids: `sessions.session_ctes` with `ids`; NULL
    for the others, which `session_attribution` never reads).

    That is its own click, else the user's latest click within `LOOKBACK_DAYS` before it (NULL: direct), among
    the sessions of `firsts` and of `prior_sessions`. The window sorts the sessions of the users who have such
    a session only (`carrying_users`), and of theirs only those with a click or without GA4's attribution: a
    session with neither gives no click and needs none.
    """
    gives_or_needs = exp.or_(exp.column("click").is_(exp.null()).not_(), exp.column("last_click").is_(exp.null()))
    mine = (exp.select("session_key", "visitor", "started", "click", exp.alias_(exp.false(), "is_prior"))
            .from_(firsts).where(exp.and_(gives_or_needs, carrying_users(exp.column("visitor"), firsts))))
    theirs = exp.select("session_key", "visitor", "started", "click", exp.alias_(exp.true(), "is_prior")).from_(PRIOR)
    window = exp.Window(
        this=exp.IgnoreNulls(this=exp.LastValue(this=exp.column("click"))),
        partition_by=[exp.column("visitor")],
        order=exp.Order(expressions=[exp.Ordered(this=exp.column("started"))]),
        spec=exp.WindowSpec(kind="RANGE", start=exp.Literal.number(LOOKBACK_DAYS * _MICROS_PER_DAY),
                            start_side="PRECEDING", end="CURRENT ROW"),
    )
    carrying = exp.select("session_key", exp.alias_(window, "carried"), "is_prior").from_(CLICKS)
    carried = exp.select("session_key", "carried").from_(CARRYING).where(exp.not_(exp.column("is_prior")))
    return [(CLICKS, exp.union(mine, theirs, distinct=False)), (CARRYING, carrying), (CARRIED, carried)]


def session_attribution(direct: dict[str, str]) -> dict[str, exp.Expr]:
    """source / medium / campaign / ga4_channel of a session row with `last_click` and `carried` (see above)."""
    last_click, carried = exp.column("last_click"), exp.column("carried")
    has_last_click = last_click.is_(exp.null()).not_()
    no_click = carried.copy().is_(exp.null())
    auto_tagged = exp.and_(_dot(carried, "source").is_(exp.null()), _dot(carried, "gclid").is_(exp.null()).not_())

    def attribute(name: str, google_ads: str | None) -> exp.Expr:
        ifs = [exp.If(this=has_last_click.copy(),
                      true=exp.func("COALESCE", _dot(last_click, name), _lit("(not set)"))),
               exp.If(this=no_click.copy(), true=_lit(direct[name]))]
        if google_ads is not None:
            ifs.append(exp.If(this=auto_tagged.copy(), true=_lit(google_ads)))
        return exp.Case(ifs=ifs, default=exp.func("COALESCE", _dot(carried, name), _lit("(not set)")))

    return {
        "source": attribute("source", "google"),
        "medium": attribute("medium", "cpc"),
        "campaign": attribute("campaign", None),
        "ga4_channel": _dot(last_click, "channel"),
    }


METHODS = ("ga4_channel_group", "last_click", "derived_from_utm", "none")
"""How a session got its channel, best first (`attribution_method`), as `kpi status` and the dashboard name it."""


def attribution_method() -> exp.Expr:
    """Which of `session_attribution`'s branches gave a session row (with `last_click` and `carried`) its channel:
    GA4's own channel group (`cross_channel_campaign`), GA4's last click with our channel rules, a click we
    derived from `collected_traffic_source` / the URL (the session's own or a carried one), or nothing (direct)."""
    last_click, carried = exp.column("last_click"), exp.column("carried")
    ga4_channel, last, derived, none = (_lit(m) for m in METHODS)
    return exp.Case(ifs=[exp.If(this=_dot(last_click, "channel").is_(exp.null()).not_(), true=ga4_channel),
                         exp.If(this=last_click.copy().is_(exp.null()).not_(), true=last),
                         exp.If(this=carried.copy().is_(exp.null()).not_(), true=derived)],
                    default=none)
