"""GA4's default channel group over the export: each of the 19 rules, in order, with Google's source list."""

from __future__ import annotations

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from generator.sql.channels import CHANNELS, default_channel_group, source_categories, source_category

# (source, medium, campaign) → channel; at least one case per rule, in the rules' order (ga4.md §9)
CASES = [
    # 1 Direct
    ("(direct)", "(none)", "(direct)", "Direct"),
    ("(direct)", "(not set)", "(not set)", "Direct"),
    # 2 Cross-network: before everything paid
    ("google", "cpc", "summer_cross-network", "Cross-network"),
    # 3 Paid Shopping: a shopping site, or a shopping campaign, with a paid medium
    ("amazon", "cpc", "spring", "Paid Shopping"),
    ("Google Shopping", "paid", "spring", "Paid Shopping"),
    ("bing", "ppc", "shopping_week", "Paid Shopping"),
    ("adnetwork", "cpc", "eshop_sale", "Paid Shopping"),
    # 4 Paid Search
    ("google", "cpc", "spring_sale", "Paid Search"),
    ("Bing", "PPC", "(not set)", "Paid Search"),
    ("ecosia.org", "paid_search", "(not set)", "Paid Search"),
    # 5 Paid Social
    ("facebook", "paid", "fb_spring", "Paid Social"),
    ("instagram", "cpc", "(not set)", "Paid Social"),
    # 6 Paid Video
    ("youtube", "cpv", "(not set)", "Paid Video"),
    ("vimeo", "paid_video", "(not set)", "Paid Video"),
    # 7 Display (cpm is also "paid", but Display comes first for a site in no list)
    ("adnetwork", "display", "(not set)", "Display"),
    ("adnetwork", "cpm", "(not set)", "Display"),
    ("adnetwork", "interstitial", "(not set)", "Display"),
    # 8 Paid Other
    ("adnetwork", "cpc", "(not set)", "Paid Other"),
    ("partner", "retargeting", "(not set)", "Paid Other"),
    # 9 Organic Shopping
    ("etsy", "referral", "(not set)", "Organic Shopping"),
    ("newsletter", "organic", "shop_now", "Organic Shopping"),
    # 10 Organic Social
    ("facebook", "referral", "(not set)", "Organic Social"),
    ("forum.example", "social-network", "(not set)", "Organic Social"),
    # 11 Organic Video
    ("youtube", "referral", "(not set)", "Organic Video"),
    ("partner", "video_teaser", "(not set)", "Organic Video"),
    # 12 Organic Search
    ("google", "organic", "(not set)", "Organic Search"),
    ("ecosia.org", "referral", "(not set)", "Organic Search"),
    ("unknown-engine", "organic", "(not set)", "Organic Search"),
    # 13 Referral
    ("blog.example.org", "referral", "(not set)", "Referral"),
    ("partner.example", "link", "(not set)", "Referral"),
    ("partner.example", "app", "(not set)", "Referral"),
    # 14 Email
    ("newsletter", "email", "march_news", "Email"),
    ("mailchimp", "e-mail", "(not set)", "Email"),
    ("weekly e_mail", "(not set)", "(not set)", "Email"),
    # 15 Affiliates
    ("partner", "affiliate", "(not set)", "Affiliates"),
    # 16 Audio
    ("podcastnetwork", "audio", "(not set)", "Audio"),
    # 17 SMS
    ("sms", "(not set)", "(not set)", "SMS"),
    ("carrier", "sms", "(not set)", "SMS"),
    # 18 Mobile Push Notifications
    ("app", "web-push", "(not set)", "Mobile Push Notifications"),
    ("app", "mobile", "(not set)", "Mobile Push Notifications"),
    ("app", "in_app_notification", "(not set)", "Mobile Push Notifications"),
    ("firebase", "(not set)", "(not set)", "Mobile Push Notifications"),
    # 19 Unassigned
    ("adnetwork", "banner-ish", "workshop", "Unassigned"),
    ("(not set)", "(not set)", "(not set)", "Unassigned"),
]


def _channel_query(cases: list[tuple[str, str, str, str]]) -> exp.Select:
    """SELECT i, channel over a VALUES table of (source, medium, campaign), as the session table computes it."""
    values = exp.values([exp.tuple_(*map(exp.Literal.string, (str(i), s, m, c)))
                         for i, (s, m, c, _) in enumerate(cases)], alias="t", columns=["i", "s", "m", "c"])
    lowered = exp.select("i", exp.alias_(exp.Lower(this=exp.column("s")), "s"),
                         exp.alias_(exp.Lower(this=exp.column("m")), "m"),
                         exp.alias_(exp.Lower(this=exp.column("c")), "c")).from_(values)
    categorised = exp.select("*", exp.alias_(source_category(exp.column("s")), "source_category")).from_(
        lowered.subquery("l"))
    channel = default_channel_group(exp.column("s"), exp.column("m"), exp.column("c"),
                                    exp.column("source_category"))
    return exp.select("i", exp.alias_(channel, "channel")).from_(categorised.subquery("k")).order_by("i")


def _run(sql: str) -> list[str]:
    return [row[1] for row in sorted(duckdb.connect().execute(sql).fetchall(), key=lambda r: int(r[0]))]


def test_every_rule_has_a_case() -> None:
    assert {case[3] for case in CASES} == set(CHANNELS)
    assert len(CHANNELS) == 19


@pytest.mark.parametrize("dialect", ["duckdb", "bigquery"])
def test_each_rule_assigns_its_channel(dialect: str) -> None:
    query = _channel_query(CASES)
    sql = query.sql(dialect)
    if dialect == "bigquery":  # run BigQuery's regexes and IN lists through DuckDB
        sql = sqlglot.transpile(sql, read="bigquery", write="duckdb")[0]
    got = _run(sql)
    mismatches = [(s, m, c, want, have) for (s, m, c, want), have in zip(CASES, got, strict=True) if want != have]
    assert not mismatches


def test_source_categories_are_googles_list_lowercased() -> None:
    categories = source_categories()
    assert len(categories) == 819
    assert categories["google"] == "SEARCH"
    assert categories["google shopping"] == "SHOPPING"
    assert categories["facebook"] == "SOCIAL"
    assert categories["youtube"] == "VIDEO"
    assert all(key == key.lower().strip() for key in categories)
