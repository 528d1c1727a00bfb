"""The session table: one row per session, with the attributes GA4 gives a session.

There is no session table in the export (ga4.md §7, §10). A session is a distinct
(`user_pseudo_id`, `ga_session_id`) pair (`scanned_events.session_key`), and its attributes come from
its first events:

- source / medium / campaign: from `collected_traffic_source` of the session's first event that has one
  (a UTM value or a Google Ads click id); a session without any is `(direct)` / `(none)`. A `gclid` without
  UTM values is Google Ads auto-tagging: `google` / `cpc`.
- channel: GA4's default channel group of that source, medium and campaign (`channels.py`).
- landing page: the path of the session's first `page_view`.
- engaged: 1 when any of its events carries `session_engaged` = 1 (GA4 sends it as the string "1", some
  tags as the number 1).

Only the columns a KPI reads are built, and only from the events that carry something (a traffic source, a
page view, the engaged flag): a session with none of them is not in the table, and the KPI's rows read it
as direct, not engaged (`scan.EventColumns`). That keeps the grouping small: most events of most sessions
carry nothing of this. Attributes are those of the session's first event *in the days the
query reads*: a session that began the day before `start_date` is described by its first event on
`start_date`.
"""

from __future__ import annotations

from sqlglot import exp

from .channels import default_channel_group, source_category
from .dimensions import DIRECT
from .scan import SCANNED

FIRSTS = "session_firsts"
SOURCES = "session_sources"
CATEGORIES = "session_categories"
SESSIONS = "sessions"
CHANNEL_INPUTS = "channel_inputs"
CHANNELS = "session_channels"
TRAFFIC_FIELDS = ("manual_source", "manual_medium", "manual_campaign_name", "gclid")


def _lit(text: str) -> exp.Literal:
    return exp.Literal.string(text)


def _traffic(field: str) -> exp.Expr:
    return exp.Dot(this=exp.column("traffic"), expression=exp.to_identifier(field))


def session_ctes(columns: set[str], firsts: exp.Select | None = None,
                 channel_per_source: bool = False) -> list[tuple[str, exp.Select]]:
    """The CTEs ending in `sessions` (keyed by `session_key`) with the requested columns.

    `firsts` replaces the grouping of the events by session (`firsts_from_partials`); with
    `channel_per_source` the channel rules run once per distinct source, medium and campaign, not per session.
    """
    traffic = bool(columns & {"channel", "source", "medium", "campaign"})
    if firsts is None:
        firsts = exp.select("session_key").from_(SCANNED).group_by("session_key")
        for name, value, when in _facts(columns):
            firsts = firsts.select(exp.alias_(_first(value, when=when) if value is not None else _engaged(), name))
        # Only those events are grouped (few: the first hits of campaign visits, page views, engaged hits);
        # a session with none of them is missing from the table, and `EventColumns` reads it as direct.
        informative = [when for _, _, when in _facts(columns)]
        firsts = firsts.where(exp.and_(exp.column("session_key").is_(exp.null()).not_(), exp.or_(*informative)))
    if not traffic:
        return [(SESSIONS, firsts)]
    ctes: list[tuple[str, exp.Select]] = [(FIRSTS, firsts)]

    no_traffic = exp.column("traffic").is_(exp.null())
    auto_tagged = exp.and_(exp.Is(this=_traffic("manual_source"), expression=exp.null()),
                           exp.not_(exp.Is(this=_traffic("gclid"), expression=exp.null())))

    def attribute(field: str, direct: str, google_ads: str | None) -> exp.Expr:
        ifs = [exp.If(this=no_traffic.copy(), true=_lit(DIRECT[direct]))]
        if google_ads is not None:
            ifs.append(exp.If(this=auto_tagged.copy(), true=_lit(google_ads)))
        return exp.Case(ifs=ifs, default=exp.func("COALESCE", _traffic(field), _lit("(not set)")))

    sources = exp.select(
        exp.Star(),
        exp.alias_(attribute("manual_source", "source", "google"), "source"),
        exp.alias_(attribute("manual_medium", "medium", "cpc"), "medium"),
        exp.alias_(attribute("manual_campaign_name", "campaign", None), "campaign"),
    ).from_(FIRSTS)
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
        sessions = exp.select("*", exp.alias_(channel, "channel"), copy=False).from_(CATEGORIES, copy=False)
        return [*ctes, (CATEGORIES, categories), (SESSIONS, sessions)]
    channels = exp.select("source", "medium", "campaign", exp.alias_(channel, "channel"), copy=False)
    on = exp.and_(*(exp.EQ(this=exp.column(c, table="c"), expression=exp.column(c, table="t"))
                    for c in ("source", "medium", "campaign")))
    sessions = (exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier("t")), exp.column("channel", table="c"))
                .from_(exp.alias_(exp.to_table(SOURCES), "t", table=True))
                .join(exp.alias_(exp.to_table(CHANNELS), "c", table=True), on=on))
    return [*ctes, (CATEGORIES, categories), (CHANNELS, channels.from_(CATEGORIES, copy=False)), (SESSIONS, sessions)]


def _facts(columns: set[str]) -> list[tuple[str, exp.Expr | None, exp.Expr]]:
    """(attribute, its value on an event, the events that carry it); value None for `engaged` (a MAX)."""
    facts: list[tuple[str, exp.Expr | None, exp.Expr]] = []
    if columns & {"channel", "source", "medium", "campaign"}:
        cts = exp.column("collected_traffic_source")
        has_traffic = exp.func(
            "COALESCE", *(exp.Dot(this=cts.copy(), expression=exp.to_identifier(f)) for f in TRAFFIC_FIELDS)
        ).is_(exp.null()).not_()
        facts.append(("traffic", cts, has_traffic))
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


def session_partials(columns: set[str]) -> list[exp.Expr]:
    """Aggregates for a grouping finer than the session (by day, say), from which `firsts_from_partials`
    gives the same `session_firsts` as grouping the events by session: each attribute's earliest value in
    the group and when it was seen (`session_<name>`, `session_<name>_at`), and `session_engaged`."""
    out: list[exp.Expr] = []
    for name, value, when in _facts(columns):
        if value is None:
            out.append(exp.alias_(_engaged(), f"{PARTIAL}{name}"))
            continue
        at = exp.Case(ifs=[exp.If(this=when, true=exp.column("event_timestamp"))])
        out.append(exp.alias_(exp.ArgMin(this=value, expression=at), f"{PARTIAL}{name}"))
        out.append(exp.alias_(exp.Min(this=at.copy()), f"{PARTIAL}{name}_at"))
    return out


def firsts_from_partials(columns: set[str], source: str) -> exp.Select:
    """`session_firsts` (or `sessions`, without traffic) from the groups of `source` with `session_partials`."""
    firsts = exp.select("session_key").from_(source).group_by("session_key")
    informative: list[exp.Expr] = []
    for name, value, _ in _facts(columns):
        column = exp.column(f"{PARTIAL}{name}")
        if value is None:
            firsts = firsts.select(exp.alias_(exp.Max(this=column), name))
            informative.append(exp.EQ(this=column.copy(), expression=exp.Literal.number(1)))
            continue
        at = exp.column(f"{PARTIAL}{name}_at")
        firsts = firsts.select(exp.alias_(exp.ArgMin(this=column, expression=at), name))
        informative.append(at.copy().is_(exp.null()).not_())
    return firsts.where(exp.and_(exp.column("session_key").is_(exp.null()).not_(), exp.or_(*informative)))


def _first(value: exp.Expr, when: exp.Expr) -> exp.Expr:
    """`value` at the earliest event for which `when` holds (ARG_MIN in DuckDB, MIN_BY in BigQuery).

    Rows where `when` is false get a NULL ordering value, which both engines skip; `value` itself must not
    be NULL on the other rows (the engines differ on NULL values), which the callers ensure.
    """
    at = exp.Case(ifs=[exp.If(this=when, true=exp.column("event_timestamp"))])
    return exp.ArgMin(this=value, expression=at)
