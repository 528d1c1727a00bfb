"""GA4's default channel group, derived from a session's source, medium and campaign (ga4.md §9).

The Data API returns `sessionDefaultChannelGroup` directly; the BigQuery export does not, so the SQL
applies Google's rules in Google's order, the first match winning, with Google's list of shopping,
search, social and video sites (`generator/ga4/source_categories.csv`, as republished by dbt-ga4).
Matching ignores case: GA4 evaluates channel rules case-insensitively, so the inputs are lowercased.
"""

from __future__ import annotations

import csv
import functools
import io
from importlib import resources

from sqlglot import exp

from ..ga4.vocabularies import CHANNELS as CHANNELS  # the names, in Google's order (no sqlglot for them)

SHOPPING, SEARCH, SOCIAL, VIDEO = "SHOPPING", "SEARCH", "SOCIAL", "VIDEO"
CATEGORIES = (SHOPPING, SEARCH, SOCIAL, VIDEO)

PAID_MEDIUM = r"^(.*cp.*|ppc|retargeting|paid.*)$"
SHOPPING_CAMPAIGN = r"^(.*(([^a-df-z]|^)shop|shopping).*)$"
DISPLAY_MEDIA = ("display", "banner", "expandable", "interstitial", "cpm")
SOCIAL_MEDIA = ("social", "social-network", "social-media", "sm", "social network", "social media")
VIDEO_MEDIUM = r"^(.*video.*)$"
EMAIL_PATTERN = r"email|e-mail|e_mail|e mail"
PUSH_MEDIUM = r"push$|mobile|notification"



@functools.cache
def source_categories() -> dict[str, str]:
    """Lowercased source → SHOPPING / SEARCH / SOCIAL / VIDEO, from Google's source-category list."""
    text = resources.files("generator.ga4").joinpath("source_categories.csv").read_text(encoding="utf-8")
    out: dict[str, str] = {}
    for row in csv.DictReader(io.StringIO(text)):
        out[row["source"].strip().lower()] = row["source_category"].removeprefix("SOURCE_CATEGORY_")
    return out


def sources_in(category: str) -> list[str]:
    return sorted(s for s, c in source_categories().items() if c == category)


def source_category(source: exp.Expr) -> exp.Expr:
    """`SHOPPING`, `SEARCH`, `SOCIAL`, `VIDEO` or NULL for a lowercased source.

    Computed once per session in its own column, so the long site lists appear once in the SQL.
    """
    return exp.Case(
        ifs=[exp.If(this=source.copy().isin(*sources_in(c)), true=exp.Literal.string(c)) for c in CATEGORIES]
    )


def default_channel_group(
    source: exp.Expr, medium: exp.Expr, campaign: exp.Expr, category: exp.Expr
) -> exp.Expr:
    """The 19 rules as one CASE; `source`, `medium` and `campaign` lowercased, `category` from above."""

    def s() -> exp.Expr:
        return source.copy()

    def m() -> exp.Expr:
        return medium.copy()

    def c() -> exp.Expr:
        return campaign.copy()

    def is_site(kind: str) -> exp.Expr:
        return exp.EQ(this=category.copy(), expression=exp.Literal.string(kind))

    def matches(value: exp.Expr, pattern: str) -> exp.Expr:
        return exp.RegexpLike(this=value, expression=exp.Literal.string(pattern))

    def equals(value: exp.Expr, text: str) -> exp.Expr:
        return exp.EQ(this=value, expression=exp.Literal.string(text))

    paid = matches(m(), PAID_MEDIUM)
    shopping_campaign = matches(c(), SHOPPING_CAMPAIGN)
    rules: list[tuple[exp.Expr, str]] = [
        (exp.and_(equals(s(), "(direct)"), m().isin("(none)", "(not set)")), "Direct"),
        (exp.GT(this=exp.StrPosition(this=c(), substr=exp.Literal.string("cross-network")),
                expression=exp.Literal.number(0)), "Cross-network"),
        (exp.and_(exp.or_(is_site(SHOPPING), shopping_campaign), paid), "Paid Shopping"),
        (exp.and_(is_site(SEARCH), paid.copy()), "Paid Search"),
        (exp.and_(is_site(SOCIAL), paid.copy()), "Paid Social"),
        (exp.and_(is_site(VIDEO), paid.copy()), "Paid Video"),
        (m().isin(*DISPLAY_MEDIA), "Display"),
        (paid.copy(), "Paid Other"),
        (exp.or_(is_site(SHOPPING), shopping_campaign.copy()), "Organic Shopping"),
        (exp.or_(is_site(SOCIAL), m().isin(*SOCIAL_MEDIA)), "Organic Social"),
        (exp.or_(is_site(VIDEO), matches(m(), VIDEO_MEDIUM)), "Organic Video"),
        (exp.or_(is_site(SEARCH), equals(m(), "organic")), "Organic Search"),
        (m().isin("referral", "app", "link"), "Referral"),
        (exp.or_(matches(s(), EMAIL_PATTERN), matches(m(), EMAIL_PATTERN)), "Email"),
        (equals(m(), "affiliate"), "Affiliates"),
        (equals(m(), "audio"), "Audio"),
        (exp.or_(equals(s(), "sms"), equals(m(), "sms")), "SMS"),
        (exp.or_(matches(m(), PUSH_MEDIUM), equals(s(), "firebase")), "Mobile Push Notifications"),
    ]
    return exp.Case(
        ifs=[exp.If(this=cond, true=exp.Literal.string(name)) for cond, name in rules],
        default=exp.Literal.string("Unassigned"),
    )
