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
TRAFFIC_FIELDS = ("manual_source", "manual_medium", "manual_campaign_name", "gclid")


def _lit(text: str) -> exp.Literal:
    return exp.Literal.string(text)


def _traffic(field: str) -> exp.Expr:
    return exp.Dot(this=exp.column("traffic"), expression=exp.to_identifier(field))


def session_ctes(columns: set[str]) -> list[tuple[str, exp.Select]]:
    """The CTEs ending in `sessions` (keyed by `session_key`) with the requested columns."""
    firsts = exp.select("session_key").from_(SCANNED).group_by("session_key")
    informative: list[exp.Expr] = []  # the events that say something about their session
    traffic = bool(columns & {"channel", "source", "medium", "campaign"})
    if traffic:
        cts = exp.column("collected_traffic_source")
        has_traffic = exp.func(
            "COALESCE", *(exp.Dot(this=cts.copy(), expression=exp.to_identifier(f)) for f in TRAFFIC_FIELDS)
        ).is_(exp.null()).not_()
        firsts = firsts.select(exp.alias_(_first(cts, when=has_traffic), "traffic"))
        informative.append(has_traffic.copy())
    if "landing_page" in columns:
        page = exp.func("COALESCE", exp.column("page_path"), _lit("(not set)"))
        is_page_view = exp.EQ(this=exp.column("event_name"), expression=_lit("page_view"))
        firsts = firsts.select(exp.alias_(_first(page, when=is_page_view), "landing_page"))
        informative.append(is_page_view.copy())
    if "engaged" in columns:
        engaged = exp.Max(this=exp.Case(ifs=[exp.If(this=exp.column("is_engaged"), true=exp.Literal.number(1))],
                                        default=exp.Literal.number(0)))
        firsts = firsts.select(exp.alias_(engaged, "engaged"))
        informative.append(exp.column("is_engaged"))
    # Only those events are grouped (few: the first hits of campaign visits, page views, engaged hits);
    # a session with none of them is missing from the table, and `EventColumns` reads it as direct.
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
    categories = categories.from_(SOURCES, copy=False)
    channel = default_channel_group(lowered["source"], lowered["medium"], lowered["campaign"],
                                    exp.column("source_category"))
    sessions = exp.select("*", exp.alias_(channel, "channel"), copy=False).from_(CATEGORIES, copy=False)
    return [*ctes, (SOURCES, sources), (CATEGORIES, categories), (SESSIONS, sessions)]


def _first(value: exp.Expr, when: exp.Expr) -> exp.Expr:
    """`value` at the earliest event for which `when` holds (ARG_MIN in DuckDB, MIN_BY in BigQuery).

    Rows where `when` is false get a NULL ordering value, which both engines skip; `value` itself must not
    be NULL on the other rows (the engines differ on NULL values), which the callers ensure.
    """
    at = exp.Case(ifs=[exp.If(this=when, true=exp.column("event_timestamp"))])
    return exp.ArgMin(this=value, expression=at)
