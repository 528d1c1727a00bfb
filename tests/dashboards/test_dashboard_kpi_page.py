"""The KPI page under AppTest, against the fixture warehouse."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date

import expected
import pyarrow as pa
import pytest
from fixture_warehouse import DATA_END

START = date(2026, 10, 1)  # the default view: last 28 days


def open_kpi_page(app, warehouse, kpi_id: str | None, **params):
    """Open the overview, then follow a link to the KPI page (as a card's page link does)."""
    at = app(warehouse.path, **params).run()
    if kpi_id is not None:
        at.query_params["kpi"] = kpi_id
    at.switch_page("app_pages/kpi.py").run()
    assert not at.exception
    return at


def chart_data(chart) -> list[dict]:
    """All rows of a chart's datasets (Streamlit ships them as Arrow)."""
    rows = []
    for dataset in chart.proto.datasets:
        rows += pa.ipc.open_stream(dataset.data.data).read_all().to_pylist()
    return rows


def test_link_opens_the_kpi_and_the_url_names_it(warehouse, app):
    at = open_kpi_page(app, warehouse, "checkout_conversion")
    assert at.title[0].value == "Checkout conversion rate"
    assert at.query_params["kpi"] == "checkout_conversion"
    assert "Owner: **[ana\\@shop.example](mailto:ana@shop.example)**" in at.markdown[0].value
    assert "Objective: **Grow online sales**" in at.markdown[0].value
    want = expected.value(warehouse, "checkout_conversion", START, DATA_END)
    assert at.metric[0].value == expected.text(warehouse, "checkout_conversion", want)
    assert "In plain words" in at.markdown[1].value


def test_breakdowns_are_the_declared_dimensions_top_five_plus_other(warehouse, app):
    at = open_kpi_page(app, warehouse, "checkout_conversion")
    headings = [m.value for m in at.markdown if m.value.startswith("**By ")]
    assert headings == ["**By channel**", "**By device\\_category**"]  # shown as text (dashboards/text.py)
    charts = at.get("vega_lite_chart")
    assert len(charts) == 4  # trend + two breakdowns + the breakdown over time

    # Expected channel values: ratio of sums per channel, top 5 by volume (denominator), rest as "Other".
    sums = defaultdict(lambda: [0.0, 0.0])
    for row in warehouse.values:
        if (
            row["kpi_id"] == "checkout_conversion"
            and row["breakdown"] == "channel"
            and START <= row["date"] <= DATA_END
        ):
            sums[row["breakdown_value"]][0] += row["numerator"]
            sums[row["breakdown_value"]][1] += row["denominator"]
    ranked = sorted(sums, key=lambda name: -sums[name][1])
    top, rest = ranked[:5], ranked[5:]
    want = {name: sums[name][0] / sums[name][1] for name in top}
    other = f"Other ({len(rest)} values)"
    want[other] = sum(sums[n][0] for n in rest) / sum(sums[n][1] for n in rest)
    shown = {row["breakdown_value"]: row["value"] for row in chart_data(charts[1])}
    assert list(shown) == [*top, other]
    assert shown == pytest.approx(want)


def test_kpi_without_breakdowns_shows_none(warehouse, app):
    at = open_kpi_page(app, warehouse, "avg_engagement_time")
    assert "Breakdowns" not in [s.value for s in at.subheader]
    assert len(at.get("vega_lite_chart")) == 1


def test_trend_has_values_and_the_time_phased_target(warehouse, app):
    at = open_kpi_page(
        app, warehouse, "checkout_conversion", period="custom", **{"from": "2026-09-20", "to": "2026-10-10"}
    )
    rows = chart_data(at.get("vega_lite_chart")[0])
    targets = {r["date"].date(): r["y"] for r in rows if r["series"] == "Target"}
    assert targets[date(2026, 9, 30)] == pytest.approx(0.030)
    assert targets[date(2026, 10, 1)] == pytest.approx(0.034)  # the new target from 1 Oct
    values = {r["date"].date(): r["y"] for r in rows if r["series"] == "This period"}
    daily = {
        r["date"]: r["value"]
        for r in expected.totals(warehouse, "checkout_conversion", date(2026, 9, 20), date(2026, 10, 10))
    }
    assert values == pytest.approx(daily)
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    assert [layer["mark"]["type"] for layer in spec["layer"]] == [
        "line",
        "line",
    ]  # no provisional band: ends 10 Oct


def test_trend_follows_the_kpis_time_grain(warehouse, app):
    at = open_kpi_page(
        app,
        warehouse,
        "revenue",
        period="custom",
        compare="none",
        **{"from": "2026-09-20", "to": "2026-10-10"},
    )
    assert "Trend against target, by month" in [s.value for s in at.subheader]
    rows = chart_data(at.get("vega_lite_chart")[0])
    values = {r["date"].date(): r["y"] for r in rows if r["series"] == "This period"}
    targets = {r["date"].date(): r["y"] for r in rows if r["series"] == "Target"}
    # Whole September (the month holding the range's first day), then October to the range's end.
    september = expected.value(warehouse, "revenue", date(2026, 9, 1), date(2026, 9, 30))
    october = expected.value(warehouse, "revenue", date(2026, 10, 1), date(2026, 10, 10))
    assert values == pytest.approx({date(2026, 9, 1): september, date(2026, 10, 1): october})
    # A €60,000 monthly target; October's cut to its 10 days.
    assert targets == pytest.approx({date(2026, 9, 1): 60000.0, date(2026, 10, 1): 60000 * 10 / 31})
    assert any("The last month is to date (10 of 31 days)" in c.value for c in at.caption)


def test_weekly_trend_overlays_the_comparison(warehouse, app):
    at = open_kpi_page(app, warehouse, "bounce_rate", period="28d")  # 1–28 Oct vs 3–30 Sep, by week
    rows = chart_data(at.get("vega_lite_chart")[0])
    weeks = sorted({r["date"].date() for r in rows if r["series"] == "This period"})
    assert weeks[0] == date(2026, 9, 28) and all(w.weekday() == 0 for w in weeks)
    first = expected.value(warehouse, "bounce_rate", date(2026, 9, 28), date(2026, 10, 4))
    shown = {r["date"].date(): r["y"] for r in rows if r["series"] == "This period"}
    assert shown[date(2026, 9, 28)] == pytest.approx(first)
    # The comparison's days are laid 28 days later: its first week is 31 Aug – 6 Sep.
    earlier = expected.value(warehouse, "bounce_rate", date(2026, 8, 31), date(2026, 9, 6))
    overlay = {r["date"].date(): r["y"] for r in rows if r["series"] == "Comparison period"}
    assert overlay[date(2026, 9, 28)] == pytest.approx(earlier)


def test_events_table_volume_violation_rate_last_seen(warehouse, app):
    at = open_kpi_page(app, warehouse, "avg_engagement_time")
    table = at.dataframe[-1].value
    rows = [
        r
        for r in warehouse.event_quality
        if r["event_name"] == "user_engagement" and START <= r["date"] <= DATA_END
    ]
    volume = sum(r["events"] for r in rows)
    row = table.iloc[0]
    assert row["Event"] == "user_engagement"
    assert row["Events in period"] == volume
    assert row["Violation rate"] == pytest.approx(sum(r["invalid_events"] for r in rows) / volume)
    assert str(row["Last seen"])[:10] == "2026-10-28"
    assert "30% of `user_engagement` events invalid" in at.caption[-1].value


def test_definition_change_marked_on_the_trend(warehouse, app):
    at = open_kpi_page(app, warehouse, "newsletter_signups")
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    assert "rule" in [layer["mark"]["type"] for layer in spec["layer"]]
    assert "Definition changes" in [s.value for s in at.subheader]
    changes = at.dataframe[-1].value
    assert list(changes["Definition hash"]) == ["newsletter_signups-v2"]
    assert any("definition changed (10 Oct 2026)" in c.value for c in at.caption)


def test_choosing_another_kpi_updates_the_url(warehouse, app):
    at = open_kpi_page(app, warehouse, "revenue")
    at.selectbox(key="kpi").select("bounce_rate").run()
    assert at.title[0].value == "Bounce rate"
    assert at.query_params["kpi"] == "bounce_rate"


def test_unknown_kpi_in_the_link_suggests_the_closest(warehouse, app):
    at = open_kpi_page(app, warehouse, "revenu")
    assert "Did you mean `revenue`?" in at.warning[0].value
    assert at.title[0].value  # falls back to a KPI rather than failing


def test_deprecated_kpi_still_opens_by_link(warehouse, app):
    at = open_kpi_page(app, warehouse, "legacy_sessions")
    assert at.title[0].value == "Legacy sessions"
    assert "Status: **deprecated**" in at.markdown[0].value


def test_url_state_survives_the_page_switch(warehouse, app):
    at = open_kpi_page(app, warehouse, "revenue", period="7d", team="Growth")
    assert at.query_params["period"] == "7d" and at.query_params["team"] == "Growth"
    want = expected.value(warehouse, "revenue", date(2026, 10, 22), DATA_END)
    assert at.metric[0].value == expected.text(warehouse, "revenue", want)


def test_days_from_intraday_tables_only_are_named_as_provisional(tmp_path, app):
    """A day loaded from `events_intraday_YYYYMMDD` only (warehouse_info's `provisional_days`) is named on the
    KPI page and the overview, and the trend's provisional band starts with it."""
    import duckdb
    from fixture_warehouse import build_serving_db

    fixture = build_serving_db(tmp_path / "w.serving.duckdb")
    with duckdb.connect(str(fixture.path)) as con:
        con.execute("INSERT INTO warehouse_info VALUES ('provisional_days', $d)",
                    {"d": DATA_END.strftime("%Y%m%d")})
    at = open_kpi_page(app, fixture, "checkout_conversion")
    captions = " ".join(c.value for c in at.caption)
    assert f"{DATA_END:%-d %b} comes from GA4's intraday table only" in captions
    overview = app(fixture.path).run()
    assert f"{DATA_END:%-d %b} comes from GA4's intraday table only" in overview.caption[0].value


def test_without_intraday_days_nothing_is_said(warehouse, app):
    at = open_kpi_page(app, warehouse, "checkout_conversion")
    assert "intraday" not in " ".join(c.value for c in at.caption)
