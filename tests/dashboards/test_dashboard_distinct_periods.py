"""The dashboard shows distinct users over a period as a distinct count, never a sum of days (issue 10 §5).

A real store (the demo property, 60 days) refreshed by `kpi refresh`; the expected number is a
`COUNT(DISTINCT user_pseudo_id)` written here over the store's raw events.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from kpibridge.cli import app as kpi_app

REPO = Path(__file__).resolve().parents[2]
END = date(2026, 3, 31)
KPI = """version: 1
kpi: active_users
title: Active users audited
description: Everyone with an event.
objective: Audit
owner: audit@shop.example
team: audit
direction: up
time_grain: week
measure:
  users: {}
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("distinct")
    kpis = root / "kpis"
    shutil.copytree(REPO / "kpis", kpis)
    (kpis / "active_users.yaml").write_text(KPI)
    path = root / "warehouse.duckdb"
    for args in (["load", "demo", "--events", "20000", "--days", "60", "--seed", "4", "--end-date", str(END)],
                 ["refresh", "--kpis", str(kpis)]):
        result = CliRunner().invoke(kpi_app, [*args, "--db", str(path)])
        assert result.exit_code == 0, result.output
    return path


def distinct_users(store: Path, first: date, last: date) -> int:
    with duckdb.connect(str(store), read_only=True) as con:
        return con.execute("SELECT count(DISTINCT user_pseudo_id) FROM ga4_events WHERE event_date BETWEEN $a AND $b",
                           {"a": first.strftime("%Y%m%d"), "b": last.strftime("%Y%m%d")}).fetchone()[0]


def card(at, title: str):
    return next(m for m in at.metric if m.label.endswith(title))


def test_28_day_card_shows_the_distinct_users_of_the_28_days(store, app):
    at = app(store.with_name("warehouse.serving.duckdb"), team="audit").run()
    assert not at.exception
    first = END - timedelta(days=27)
    users = distinct_users(store, first, END)
    assert card(at, "Active users audited").value == f"{users:,}"
    daily_sum = sum(distinct_users(store, first + timedelta(days=i), first + timedelta(days=i)) for i in range(28))
    assert daily_sum > users * 1.05  # what the card showed before: the sum of the days
    previous = distinct_users(store, first - timedelta(days=28), first - timedelta(days=1))
    assert card(at, "Active users audited").delta == f"{(users - previous) / previous * 100:+.1f}%"


def test_a_custom_range_says_where_its_exact_count_is(store, app):
    at = app(store.with_name("warehouse.serving.duckdb"), team="audit", period="custom",
             **{"from": "2026-03-03", "to": "2026-03-19"}).run()
    assert not at.exception
    assert card(at, "Active users audited").value == "—"
    notes = [c.value for c in at.caption]
    assert any("kpi values --kpi active_users --grain period --from 2026-03-03 --to 2026-03-19" in n for n in notes)


def test_kpi_page_weekly_trend_uses_distinct_weeks(store, app):
    at = app(store.with_name("warehouse.serving.duckdb"), team="audit").run()
    at.query_params["kpi"] = "active_users"
    at.switch_page("app_pages/kpi.py").run()
    assert not at.exception
    first = END - timedelta(days=27)
    assert card(at, "Active users audited").value == f"{distinct_users(store, first, END):,}"
    rows = []
    for dataset in at.get("vega_lite_chart")[0].proto.datasets:
        rows += pa.ipc.open_stream(dataset.data.data).read_all().to_pylist()
    weeks = {r["date"].date(): r["y"] for r in rows if r["series"] == "This period"}
    monday = first - timedelta(days=first.weekday())  # the trend starts with the week holding the first day
    assert sorted(weeks) == [monday + timedelta(weeks=i) for i in range(len(weeks))] and len(weeks) == 5
    for start, users in weeks.items():
        assert users == distinct_users(store, start, min(start + timedelta(days=6), END))


def test_a_card_never_adds_up_the_days_of_a_distinct_count():
    import pandas as pd

    from dashboards.scorecard import API_ONLY_NOTE, build_cards
    from warehouse.periods import Period

    period = Period(date(2026, 3, 1), date(2026, 3, 2), "Custom range")
    definitions = pd.DataFrame([{
        "kpi_id": "users", "title": "Users", "objective": None, "team": None, "format": "number", "currency": None,
        "direction": "up", "time_grain": "day", "aggregation": "sum", "warn_threshold": None,
        "critical_threshold": None, "events": (), "distinct_units": True,
    }])
    targets = pd.DataFrame(columns=["kpi_id", "valid_from", "value"])
    days = pd.DataFrame({"kpi_id": ["users"] * 2, "date": [period.start, period.end], "value": [10.0, 12.0],
                         "numerator": [10.0, 12.0], "denominator": [None, None], "source": ["ga4_export"] * 2,
                         "caveats": [(), ()]})
    exact = pd.DataFrame([{"kpi_id": "users", "period_start": period.start, "period_end": period.end, "value": 15.0}])
    card = build_cards(definitions, targets, days, {}, period, None, period.end, exact=exact)[0]
    assert (card.value, card.exact_note) == (15.0, None)
    card = build_cards(definitions, targets, days, {}, period, None, period.end, exact=exact.iloc[0:0])[0]
    assert card.value is None and "--from 2026-03-01 --to 2026-03-02" in (card.exact_note or "")
    api = days.assign(source="ga4_api")
    card = build_cards(definitions, targets, api, {}, period, None, period.end)[0]
    assert card.value is None and card.exact_note == API_ONLY_NOTE
