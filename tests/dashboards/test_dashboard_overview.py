"""The overview page under AppTest, against the fixture warehouse."""

from __future__ import annotations

from datetime import date

import expected
import pytest
from fixture_warehouse import DATA_END, build_empty_db, build_serving_db, generic_kpis
from streamlit.proto.Metric_pb2 import Metric

from dashboards.text import md_text

ACTIVE = [
    "Checkout conversion rate",
    "Revenue",
    "Bounce rate",
    "Average engagement time",
    "Newsletter sign-ups",
    "Returning users",
]


def cards(at) -> dict[str, object]:
    """Metric elements by KPI title (the label also carries status and data-health badges)."""
    found = {}
    for metric in at.metric:
        title = next(t for t in ACTIVE + [f"KPI {i:03d}" for i in range(100)] if metric.label.endswith(t))
        found[title] = metric
    return found


def test_one_card_per_active_kpi_with_the_warehouse_values(warehouse, app):
    at = app(warehouse.path).run()
    assert not at.exception
    shown = cards(at)
    assert sorted(shown) == sorted(ACTIVE)  # the deprecated KPI has no card
    start, end = date(2026, 10, 1), DATA_END  # last 28 days, the default
    titles = {k.title: k.kpi_id for k in warehouse.kpis}
    for title, metric in shown.items():
        kpi_id = titles[title]
        assert metric.value == expected.text(warehouse, kpi_id, expected.value(warehouse, kpi_id, start, end))
        # The title is Markdown above the number (a metric label is cut at the card's width).
        # (escaped: marketer text is shown as text, never as Markdown)
        assert any(m.value == f"**{md_text(metric.label)}**" for m in at.markdown)


def test_delta_compares_with_the_previous_28_days(warehouse, app):
    at = app(warehouse.path).run()
    revenue = cards(at)["Revenue"]
    now = expected.value(warehouse, "revenue", date(2026, 10, 1), DATA_END)
    before = expected.value(warehouse, "revenue", date(2026, 9, 3), date(2026, 9, 30))
    assert revenue.delta == f"{(now - before) / before * 100:+.1f}%"
    conversion = cards(at)["Checkout conversion rate"]
    now = expected.value(warehouse, "checkout_conversion", date(2026, 10, 1), DATA_END)
    before = expected.value(warehouse, "checkout_conversion", date(2026, 9, 3), date(2026, 9, 30))
    points = (now - before) * 100
    assert conversion.delta == (f"{points:+.2f} pp" if abs(points) < 0.1 else f"{points:+.1f} pp")


def test_targets_status_colours_and_off_track_first(warehouse, app):
    at = app(warehouse.path).run()
    shown = cards(at)
    # Bounce rate (lower is better) above its critical limit; newsletter below warn; conversion
    # between warn and target; revenue and engagement time on track; returning users has no target.
    assert shown["Bounce rate"].proto.delta_description == "target 40.0%"
    newsletter_target = 300 / expected.month_days(DATA_END) * 28  # a monthly target over 28 days
    assert shown["Newsletter sign-ups"].proto.delta_description == f"target {newsletter_target:,.0f}"
    assert shown["Returning users"].proto.delta_description == "no target"
    colour = Metric.DESCRIPTOR.fields_by_name["color"].enum_type.values_by_number
    names = {title: colour[metric.proto.color].name.lower() for title, metric in shown.items()}
    # On track is green only when the change against the previous 28 days goes the KPI's good way
    # (issue 14: "E-mail sign-ups ↓ −16.1 % in green"); a fall of an on-track KPI is grey.
    on_track = {}
    for title, kpi_id in (("Revenue", "revenue"), ("Average engagement time", "avg_engagement_time")):
        now = expected.value(warehouse, kpi_id, date(2026, 10, 1), DATA_END)
        before = expected.value(warehouse, kpi_id, date(2026, 9, 3), date(2026, 9, 30))
        on_track[title] = "green" if now >= before else "gray"
    assert names == {
        "Bounce rate": "red",
        "Newsletter sign-ups": "orange",
        "Checkout conversion rate": "blue",  # off target: blue, so it never reads like the orange warning
        "Returning users": "gray",
        **on_track,
    }
    order = [title for metric in at.metric for title in ACTIVE if metric.label.endswith(title)]
    # Groups follow their most urgent card; within a group, the most urgent first.
    assert order[0] == "Bounce rate"
    assert order.index("Newsletter sign-ups") < order.index("Returning users")
    assert order.index("Checkout conversion rate") < order.index("Revenue")
    assert [s.value for s in at.subheader] == ["Improve engagement", "Grow audience", "Grow online sales"]


def test_sparkline_is_the_periods_daily_values(warehouse, app):
    at = app(warehouse.path, period="7d").run()
    rows = expected.totals(warehouse, "revenue", date(2026, 10, 22), DATA_END)
    assert list(cards(at)["Revenue"].proto.chart_data) == pytest.approx([r["value"] for r in rows])


def test_data_health_light(warehouse, app):
    at = app(warehouse.path).run()
    shown = cards(at)
    assert ":orange-badge[" in shown["Average engagement time"].label  # 30% of user_engagement invalid
    assert ":red-badge[" in shown["Newsletter sign-ups"].label  # sign_up stopped on 1 Oct
    assert "badge[" not in shown["Revenue"].label
    assert "`sign_up` not seen since 30 Sep 2026" in shown["Newsletter sign-ups"].help


def test_provisional_and_comparison_are_stated(warehouse, app):
    at = app(warehouse.path, period="mtd").run()
    caption = at.caption[0].value
    assert "Month to date" in caption and "partial" in caption
    assert "prior month to date: 1–28 Sep 2026" in caption
    assert "from 26 Oct are provisional" in caption


@pytest.mark.parametrize(
    ("params", "start", "end"),
    [
        ({"period": "7d"}, date(2026, 10, 22), DATA_END),
        ({"period": "90d"}, date(2026, 7, 31), DATA_END),
        ({"period": "qtd"}, date(2026, 10, 1), DATA_END),
        ({"period": "custom", "from": "2026-03-01", "to": "2026-03-31"}, date(2026, 3, 1), date(2026, 3, 31)),
    ],
)
def test_url_period_changes_the_values(warehouse, app, params, start, end):
    at = app(warehouse.path, **params).run()
    assert not at.exception
    want = expected.text(warehouse, "revenue", expected.value(warehouse, "revenue", start, end))
    assert cards(at)["Revenue"].value == want
    assert at.query_params["period"] == params["period"]


def test_same_period_last_year(warehouse, app):
    at = app(warehouse.path, period="mtd", compare="year").run()
    now = expected.value(warehouse, "revenue", date(2026, 10, 1), DATA_END)
    before = expected.value(warehouse, "revenue", date(2025, 10, 1), date(2025, 10, 28))
    assert cards(at)["Revenue"].delta == f"{(now - before) / before * 100:+.1f}%"


def test_no_comparison_means_no_delta(warehouse, app):
    at = app(warehouse.path, compare="none").run()
    assert all(metric.delta in ("", None) for metric in at.metric)


def test_team_filter_from_the_url(warehouse, app):
    at = app(warehouse.path, team="Content").run()
    assert sorted(cards(at)) == ["Average engagement time", "Bounce rate", "Returning users"]
    assert at.selectbox(key="team").value == "Content"


def test_objective_filter_widget_updates_the_url(warehouse, app):
    at = app(warehouse.path).run()
    at.selectbox(key="objective").select("Grow audience").run()
    assert sorted(cards(at)) == ["Newsletter sign-ups", "Returning users"]
    assert at.query_params["objective"] == "Grow audience"


def test_group_by_team(warehouse, app):
    at = app(warehouse.path, group="team").run()
    assert [s.value for s in at.subheader] == ["Content", "Growth"]


def test_period_widget_updates_values_and_url(warehouse, app):
    at = app(warehouse.path).run()
    at.selectbox(key="period").select("7d").run()
    want = expected.value(warehouse, "returning_users", date(2026, 10, 22), DATA_END)
    assert cards(at)["Returning users"].value == expected.text(warehouse, "returning_users", want)
    assert at.query_params["period"] == "7d"


def test_cards_link_to_their_kpi_page_with_the_view(warehouse, app):
    at = app(warehouse.path, period="7d", team="Growth").run()
    links = {link.label: link for link in at.get("page_link")}
    link = links["Revenue details"]
    assert link.proto.page.endswith("kpi")
    assert "kpi=revenue" in link.proto.query_string and "period=7d" in link.proto.query_string


def test_at_most_twelve_cards_and_the_filter_narrows(tmp_path, app):
    db = tmp_path / "many.serving.duckdb"
    build_serving_db(db, generic_kpis(20, breakdowns=1), start=date(2026, 9, 1))
    at = app(db).run()
    assert not at.exception
    assert len(at.metric) == 12
    assert "12 most urgent of 20 KPIs" in at.warning[0].value
    at = app(db, team="Team 1").run()
    assert len(at.metric) == 5 and not at.warning


def test_unknown_filter_values_in_the_url_are_ignored(warehouse, app):
    at = app(warehouse.path, team="Nobody", period="fortnight").run()
    assert not at.exception
    assert len(at.metric) == len(ACTIVE)
    assert at.query_params["period"] == "28d"


@pytest.mark.parametrize("page", [None, "app_pages/kpi.py"])
def test_missing_warehouse_shows_guidance(tmp_path, app, page):
    at = app(tmp_path / "absent.serving.duckdb").run()
    if page:
        at.switch_page(page).run()
    assert not at.exception
    assert "kpi load demo && kpi refresh" in at.info[0].value
    assert not at.metric


def test_empty_warehouse_shows_guidance(tmp_path, app):
    db = tmp_path / "empty.serving.duckdb"
    build_empty_db(db)
    at = app(db).run()
    assert not at.exception
    assert "kpi load demo && kpi refresh" in at.info[0].value


def test_unreadable_file_shows_what_to_run(tmp_path, app):
    db = tmp_path / "garbage.serving.duckdb"
    db.write_bytes(b"not a database" * 100)
    at = app(db).run()
    assert not at.exception
    assert "kpi refresh" in at.error[0].value
