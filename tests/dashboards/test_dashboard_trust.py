"""Issue 14 on the KPI page and overview: no personal data in breakdowns, honest "Other", labelled bars,
an all-(not set) breakdown flagged, the global filter and drilling, the breakdown trend, the numbers as
CSV, single-number targets and thresholds in one precision. Expectations computed from the rows written."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from datetime import date

import duckdb
import expected
import pyarrow as pa
import pytest
from fixture_warehouse import DATA_END, KpiSpec, build_serving_db

from warehouse.quality import PII_RE
from warehouse.serving_contract import write_breakdown_choices

START = date(2026, 10, 1)  # the default view: last 28 days
LEADS = ["contact_form", "newsletter", "webinar"]
BAD = ["newsletter jan.meyer@example.net", "+49 170 1234567", "partner_portal"]  # e-mail, phone, not allowed


def _kpis() -> list[KpiSpec]:
    return [
        KpiSpec("leads", "Leads from every form on the site", "Grow leads", "Marketing", "number", "sum",
                level=400, targets=[(date(2000, 1, 1), 5000.0)],
                breakdowns={"param:lead_source": LEADS + BAD, "channel": ["A", "B", "C", "D", "E", "F"]},
                events=["generate_lead"]),
        KpiSpec("sales", "Sales", "Grow leads", "Marketing", "currency", "sum", currency="EUR", level=30,
                time_grain="day", targets=[(date(2026, 1, 1), 1000.0)], warn=800.0, critical=500.5,
                breakdowns={"device_category": ["(not set)"]}, events=["purchase"]),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def leads_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("trust") / "warehouse.serving.duckdb"
    fixture = build_serving_db(path, _kpis())
    with duckdb.connect(str(path)) as con:  # what `kpi refresh` publishes beside the values
        con.execute("INSERT INTO warehouse_info VALUES ('pii_pattern', ?)", [PII_RE])
        con.execute("INSERT INTO breakdown_allowed_values VALUES ('leads', 'param:lead_source', ?)", [LEADS])
        write_breakdown_choices(con)  # which now leaves out the invalid values
    return fixture


def open_kpi(app, fixture, kpi_id, **params):
    at = app(fixture.path, **params).run()
    at.query_params["kpi"] = kpi_id
    at.switch_page("app_pages/kpi.py").run()
    assert not at.exception
    return at


def chart_rows(chart) -> list[dict]:
    rows = []
    for dataset in chart.proto.datasets:
        rows += pa.ipc.open_stream(dataset.data.data).read_all().to_pylist()
    return rows


def everything_shown(at) -> str:
    """All text the page sends to the browser: Markdown, captions, widgets' options, chart data."""
    parts = [e.value for e in [*at.markdown, *at.caption, *at.title, *at.subheader]]
    parts += [str(option) for box in at.selectbox for option in box.options]
    parts += [json.dumps(chart_rows(c), default=str) + c.proto.spec for c in at.get("vega_lite_chart")]
    parts += [e.proto.data.decode("latin-1", "ignore") for e in at.get("arrow_data_frame")]
    return "\n".join(parts)


def sums(fixture, kpi_id, breakdown, start=START, end=DATA_END) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for row in fixture.values:
        if row["kpi_id"] == kpi_id and row["breakdown"] == breakdown and start <= row["date"] <= end:
            out[row["breakdown_value"]] += row["value"]
    return out


def test_personal_and_not_allowed_values_are_grouped_never_shown(leads_db, app):
    at = open_kpi(app, leads_db, "leads")
    page = everything_shown(at)
    for value in BAD:
        assert value not in page
    assert "jan.meyer" not in page and "example.net" not in page
    charts = at.get("vega_lite_chart")
    bars = {r["breakdown_value"]: r for r in chart_rows(charts[1])}  # by lead source
    per_value = sums(leads_db, "leads", "param:lead_source")
    assert list(bars) == [*sorted(LEADS, key=lambda v: -per_value[v]), "invalid values (3)"]
    assert bars["invalid values (3)"]["value"] == pytest.approx(sum(per_value[v] for v in BAD))
    assert bars["invalid values (3)"]["kind"] == "invalid"
    links = [link for link in at.get("page_link") if "Data quality" in link.proto.label]
    assert links and links[0].proto.page.endswith("quality")
    at.switch_page("app_pages/quality.py").run()
    assert not at.exception and at.title[0].value == "Data quality"


def test_other_never_hides_one_value_and_bars_carry_value_and_volume(leads_db, app):
    at = open_kpi(app, leads_db, "leads")
    bars = chart_rows(at.get("vega_lite_chart")[2])  # by channel: six values, top five would leave one
    per_value = sums(leads_db, "leads", "channel")
    total = sum(per_value.values())
    assert [b["breakdown_value"] for b in bars] == sorted(per_value, key=lambda v: -per_value[v])
    for bar in bars:
        value = per_value[bar["breakdown_value"]]
        assert bar["label"] == f"{value:,.0f} ({value / total:.0%})"
    spec = json.loads(at.get("vega_lite_chart")[2].proto.spec)
    assert any(layer["mark"]["type"] == "text" for layer in spec["layer"])


def test_a_breakdown_that_is_all_not_set_is_flagged(leads_db, app):
    at = open_kpi(app, leads_db, "sales")
    assert any("Every value is `(not set)`" in w.value for w in at.warning)


def test_single_number_target_and_thresholds_in_one_precision(leads_db, app):
    at = open_kpi(app, leads_db, "leads")
    assert "**Target**: 5,000, on every day." in [m.value for m in at.markdown]
    shown = everything_shown(at)
    assert "2000-01-01" not in shown and "Jan 2000" not in shown  # no "From 2000-01-01"
    at = open_kpi(app, leads_db, "sales")
    thresholds = next(c.value for c in at.caption if c.value.startswith("Thresholds"))
    assert thresholds == "Thresholds per day: warning below €800.00, critical below €500.50."
    frame = next(d.value for d in at.dataframe if "Target" in d.value.columns)
    assert list(frame["Target"]) == ["€1,000.00"] and list(frame["From"]) == ["1 Jan 2026"]


def test_numbers_table_and_csv_download(leads_db, app):
    at = open_kpi(app, leads_db, "leads")
    assert "Numbers" in [s.value for s in at.subheader]
    button = at.get("download_button")[0]
    assert button.proto.label == "Download CSV"
    table = next(d for d in at.dataframe if "value" in d.value.columns and "days" in d.value.columns).value
    per_day = {r["date"]: r["value"] for r in expected.totals(leads_db, "leads", START, DATA_END)}
    assert dict(zip(table["date"], table["value"], strict=True)) == pytest.approx(per_day)
    # The CSV is the same table.
    rows = list(csv.DictReader(io.StringIO(table.to_csv(index=False))))
    assert len(rows) == len(per_day)


def test_global_filter_shows_everything_for_one_segment(leads_db, app):
    at = app(leads_db.path, filter="channel=B").run()
    assert not at.exception
    cards = {m.label: m for m in at.metric}
    assert len(cards) == 1  # only `leads` has a channel breakdown
    (metric,) = cards.values()
    want = sums(leads_db, "leads", "channel")["B"]
    assert metric.value == f"{want:,.0f}"
    assert any("channel = B" in i.value for i in at.info)
    assert at.query_params["filter"] == ["channel=B"] or at.query_params["filter"] == "channel=B"


def test_the_global_filter_never_offers_an_invalid_value(leads_db, app):
    """Its choices are what `kpi refresh` wrote to `breakdown_choices`: personal data and values outside the
    catalog's list are left out, as the charts group them."""
    at = app(leads_db.path, filter="param:lead_source=contact_form").run()
    assert not at.exception
    offered = at.selectbox(key="segment_value").options
    assert sorted(offered) == sorted(LEADS)
    assert not set(offered) & set(BAD)
    assert any(r["breakdown_value"] in BAD for r in leads_db.values)  # they are in kpi_values


def test_drilling_from_a_breakdown_sets_the_filter(leads_db, app):
    at = open_kpi(app, leads_db, "leads")
    at.selectbox(key="drill_channel").set_value("C").run()
    assert not at.exception
    assert at.session_state["segment_dim"] == "channel" and at.session_state["segment_value"] == "C"
    want = sum(r["value"] for r in leads_db.values if r["kpi_id"] == "leads" and r["breakdown"] == "channel"
               and r["breakdown_value"] == "C" and START <= r["date"] <= DATA_END)
    assert at.metric[0].value == f"{want:,.0f}"


def test_breakdown_trend_over_time(leads_db, app):
    at = open_kpi(app, leads_db, "leads")
    at.selectbox(key="trend_breakdown").set_value("channel").run()
    trend = at.get("vega_lite_chart")[-1]
    rows = chart_rows(trend)
    per_day: dict[tuple, float] = defaultdict(float)
    for row in leads_db.values:
        if row["kpi_id"] == "leads" and row["breakdown"] == "channel" and START <= row["date"] <= DATA_END:
            per_day[(row["date"], row["breakdown_value"])] += row["value"]
    # Six channels: one line each (an "Other" of one value would hide it).
    assert {r["series"] for r in rows} == set(sums(leads_db, "leads", "channel"))
    assert len(rows) == 6 * 28
    for row in rows:
        if row["series"] != "Other":
            day = row["date"].date()
            assert row["value"] == pytest.approx(per_day[(day, row["series"])])
