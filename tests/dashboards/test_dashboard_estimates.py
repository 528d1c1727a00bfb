"""GA4's estimates (sampled, thresholded, `(other)` rows) and the source of each day, under AppTest.

The fixture holds returning users from the Data API only on 1–20 Mar 2026, flagged on 10 Mar
(thresholded) and 12 Mar (sampled, `(other)` row); revenue's Data API copy of 20 Oct 2026 is flagged
(sampled), but the export holds that day too and wins, so it is no estimate.
"""

from __future__ import annotations

from datetime import date

import duckdb
import expected
import pandas as pd
import pytest
from fixture_warehouse import API_CAVEATS, API_ONLY, DATA_END, build_serving_db

from dashboards.estimates import api_note_words, describe_days, source_note
from warehouse.serving_contract import VERSION_KEY

BADGE = "≈ estimate"
MARCH = {"period": "custom", "from": "2026-03-01", "to": "2026-03-31"}


def cards(at, warehouse) -> dict[str, object]:
    """Metric elements by KPI id (labels end with the KPI's title)."""
    by_title = {k.title: k.kpi_id for k in warehouse.kpis}
    return {next(i for t, i in by_title.items() if m.label.endswith(t)): m for m in at.metric}


def estimated(at, warehouse) -> set[str]:
    return {kpi_id for kpi_id, metric in cards(at, warehouse).items() if BADGE in metric.label}


def open_kpi_page(app, path, kpi_id: str, **params):
    at = app(path, **params).run()
    at.query_params["kpi"] = kpi_id
    at.switch_page("app_pages/kpi.py").run()
    assert not at.exception
    return at


def captions(at) -> list[str]:
    return [caption.value for caption in at.caption]


def test_the_fixture_is_what_these_tests_assume(warehouse):
    march = expected.estimate_days(warehouse, "returning_users", date(2026, 3, 1), date(2026, 3, 31))
    assert march == {day: sorted(flags) for day, flags in API_CAVEATS.items()}
    assert not expected.estimate_days(warehouse, "revenue", date(2026, 10, 1), DATA_END)
    assert any(c["kpi_id"] == "revenue" for c in warehouse.caveats)  # flagged, but the export wins


def test_badge_only_on_the_caveated_kpi_in_the_caveated_period(warehouse, app):
    at = app(warehouse.path, **MARCH).run()
    assert not at.exception
    assert estimated(at, warehouse) == {"returning_users"}
    card = cards(at, warehouse)["returning_users"]
    want = expected.value(warehouse, "returning_users", date(2026, 3, 1), date(2026, 3, 31))
    assert card.value == expected.text(warehouse, "returning_users", want)  # Data API days counted once
    assert card.label.endswith("Returning users")
    for words in (
        "≈ Estimate",
        "2 days",
        "10 Mar 2026, 12 Mar 2026",
        "thresholded",
        "sampled",
        "`(other)` row",
    ):
        assert words in card.help
    for kpi_id, metric in cards(at, warehouse).items():
        if kpi_id != "returning_users":
            assert "Estimate" not in metric.help


@pytest.mark.parametrize(
    "params",
    [
        {},  # the default 28 days: revenue's flagged Data API copy lost to the export
        {"period": "custom", "from": "2026-03-13", "to": "2026-03-31"},  # Data API days, none flagged
        {"period": "custom", "from": "2026-10-20", "to": "2026-10-20", "compare": "none"},
    ],
)
def test_no_badge_where_no_value_shown_is_an_estimate(warehouse, app, params):
    at = app(warehouse.path, **params).run()
    assert not at.exception
    assert at.metric and not estimated(at, warehouse)
    assert all("Estimate" not in metric.help for metric in at.metric)


def test_a_flagged_comparison_period_is_said_in_the_tooltip_not_badged(warehouse, app):
    # 1–30 Apr 2026 against the previous 30 days, 2–31 Mar, which hold the flagged days.
    at = app(warehouse.path, period="custom", **{"from": "2026-04-01", "to": "2026-04-30"}).run()
    assert not estimated(at, warehouse)
    card = cards(at, warehouse)["returning_users"]
    assert "comparison period's value is an estimate" in card.help and "thresholded" in card.help
    assert "comparison period" not in cards(at, warehouse)["revenue"].help


def test_kpi_page_marks_the_estimate_and_names_each_days_source(warehouse, app):
    at = open_kpi_page(app, warehouse.path, "returning_users", **MARCH)
    assert BADGE in at.metric[0].label
    shown = captions(at)
    estimate = next(c for c in shown if c.startswith("≈ Estimate"))
    assert "10 Mar 2026, 12 Mar 2026" in estimate and "thresholded" in estimate and "(other)" in estimate
    days = expected.sources(warehouse, "returning_users", date(2026, 3, 1), date(2026, 3, 31))
    assert len(days["ga4_api"]) == 20 and len(days["ga4_export"]) == 11
    assert (
        "Sources: the BigQuery export on 11 days (21–31 Mar 2026); "
        "the GA4 Data API on 20 days (1–20 Mar 2026)." in "\n".join(shown)
    )


def test_kpi_page_without_estimates_or_mixed_sources_says_neither(warehouse, app):
    at = open_kpi_page(app, warehouse.path, "revenue")  # both sources every day; the export wins each
    assert BADGE not in at.metric[0].label
    assert not [c for c in captions(at) if c.startswith(("≈", "Sources:", "Computed from"))]
    at = open_kpi_page(app, warehouse.path, "returning_users")  # the default period: export only
    assert BADGE not in at.metric[0].label
    assert not [c for c in captions(at) if c.startswith(("≈", "Sources:"))]


def test_kpi_page_states_the_api_note_in_plain_words(warehouse, app):
    at = open_kpi_page(app, warehouse.path, "bounce_rate")
    note = next(c for c in captions(at) if c.startswith("Computed from the BigQuery export only: "))
    assert "custom params as text dimensions" in note and note.count("BigQuery export only") == 1
    assert any("Source: the BigQuery export only" in m.value for m in at.markdown)


def test_a_serving_file_of_another_contract_version_says_refresh(tmp_path, app):
    db = tmp_path / "old.serving.duckdb"
    build_serving_db(db)
    with duckdb.connect(str(db)) as con:  # as a serving file written before the contract's version
        con.execute("DELETE FROM warehouse_info WHERE key = ?", [VERSION_KEY])
    at = app(db, **MARCH).run()
    assert not at.exception
    assert not at.metric  # no card is drawn from a file of another shape
    assert [w.value for w in at.warning] == [
        "This serving file was written by another version of KPI Bridge; the next `kpi refresh` rebuilds it."
    ]


def test_plain_words_helpers():
    assert api_note_words(None) is None and api_note_words("  ") is None
    assert api_note_words(
        "the Data API has no measure for x, so this KPI is computed from the BigQuery export only"
    ) == ("Computed from the BigQuery export only: the Data API has no measure for x.")
    days = [date(2026, 3, d) for d in (1, 2, 3, 9)] + [API_ONLY[1]]
    assert describe_days(days) == "1–3 Mar 2026, 9 Mar 2026, 20 Mar 2026"
    many = [date(2026, 3, d) for d in range(1, 30, 2)]
    assert describe_days(many).endswith("and 9 more")


def test_source_note_only_when_the_days_mix_sources():
    one = pd.DataFrame({"date": [date(2026, 3, 1), date(2026, 3, 2)], "source": ["ga4_api", "ga4_api"]})
    assert source_note(one) is None and source_note(one.iloc[0:0]) is None
    mixed = one.assign(source=["ga4_api", "ga4_export"])
    assert source_note(mixed) == (
        "Sources: the BigQuery export on 1 day (2 Mar 2026); the GA4 Data API on 1 day (1 Mar 2026). "
        "Where both hold a day, the export's value is used."
    )
