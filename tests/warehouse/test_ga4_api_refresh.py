"""`kpi refresh` computes ga4_api KPI values from loaded Data API rows; `kpi reconcile` compares the sources."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import duckdb
import pytest
from fake_ga4 import FakeGA4, Record, shop_records
from typer.testing import CliRunner

from kpibridge.cli import app
from warehouse.serving_contract import serving_path

DAYS = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(3)]


@pytest.fixture
def kpi(db: Path, example_kpis_dir: Path):
    """`kpi …` in-process, against this test's warehouse and the example KPIs."""
    runner = CliRunner()

    def run(*args: str):
        extra = ["--kpis", str(example_kpis_dir)] if args[0] in ("refresh",) or args[:2] == ("load", "ga4-api") else []
        return runner.invoke(app, [*args, "--db", str(db), *extra])

    return run


def load_from(kpi, fake: FakeGA4, start: dt.date, end: dt.date):
    result = kpi("load", "ga4-api", "--property", "123456", "--start", start.isoformat(), "--end", end.isoformat(),
                 "--endpoint", fake.endpoint, "--insecure", "--max-wait", "0.02")
    assert result.exit_code == 0, result.output
    return result


def served_values(db: Path, kpi_id: str, breakdown: str = "", source: str = "ga4_api") -> dict:
    with duckdb.connect(str(serving_path(db)), read_only=True) as con:
        rows = con.execute("SELECT date, breakdown_value, value, numerator, denominator FROM kpi_values "
                           "WHERE kpi_id = $k AND breakdown = $b AND source = $s",
                           {"k": kpi_id, "b": breakdown, "s": source}).fetchall()
    return {(d, bv): (v, n, den) for d, bv, v, n, den in rows}


def total(records: list[Record], metric: str, **match: str) -> float:
    """Hand-computed: the sum of one metric over the fake's cells that match."""
    return sum(r.metrics.get(metric, 0.0) for r in records
               if all(r.dims.get(k.replace("__", ":")) == v for k, v in match.items()))


def test_refresh_computes_ga4_api_values_by_hand(kpi, db):
    records = shop_records(DAYS, seed=3)
    pop = [r for r in records if not r.is_event]
    ev = [r for r in records if r.is_event]
    with FakeGA4(records) as fake:
        load_from(kpi, fake, DAYS[0], DAYS[-1])
    result = kpi("refresh")
    assert result.exit_code == 0, result.output
    assert re.search(r"Computed \d+ KPIs from the Data API over 3 days", result.stdout)
    assert "Not from the Data API: cart_to_purchase_1d: the Data API has no measure" in result.stdout

    for day in DAYS:
        d = day.strftime("%Y%m%d")
        sessions = total(pop, "sessions", date=d)
        assert served_values(db, "sessions")[(day, "")] == (sessions, sessions, None)
        purchase_sessions = total(ev, "sessions", date=d, eventName="purchase")
        assert served_values(db, "session_conversion_rate")[(day, "")] == pytest.approx(
            (purchase_sessions / sessions, purchase_sessions, sessions))
        revenue = total(ev, "grossPurchaseRevenue", date=d, eventName="purchase")
        orders = total(ev, "transactions", date=d, eventName="purchase")
        assert served_values(db, "average_order_value")[(day, "")] == pytest.approx((revenue / orders, revenue, orders))
        new_users = total(pop, "newUsers", date=d)
        assert served_values(db, "revenue_per_new_user")[(day, "")] == pytest.approx(
            (revenue / new_users, revenue, new_users))
        signups = total(ev, "eventCount", date=d, eventName="sign_up", customEvent__method="email")
        assert served_values(db, "email_sign_ups")[(day, "")][0] == signups
        for channel in ("Organic Search", "Paid Search", "Direct", "Email"):
            by_channel = total(pop, "sessions", date=d, sessionDefaultChannelGroup=channel)
            assert served_values(db, "sessions", "channel")[(day, channel)][0] == by_channel
        for device in ("desktop", "mobile"):
            engaged = total(pop, "engagedSessions", date=d, deviceCategory=device)
            all_sessions = total(pop, "sessions", date=d, deviceCategory=device)
            assert served_values(db, "engaged_session_rate", "device_category")[(day, device)] == pytest.approx(
                (engaged / all_sessions, engaged, all_sessions))
        for payment in ("card", "paypal"):
            paid = total(ev, "grossPurchaseRevenue", date=d, eventName="purchase", customEvent__payment_type=payment)
            assert served_values(db, "revenue", "param:payment_type")[(day, payment)][0] == pytest.approx(paid)
    assert served_values(db, "cart_to_purchase_1d") == {}  # left to the export


def test_refresh_is_idempotent_and_keeps_computed_at(kpi, db):
    with FakeGA4(shop_records(DAYS)) as fake:
        load_from(kpi, fake, DAYS[0], DAYS[-1])
        assert kpi("refresh").exit_code == 0
        sql = "SELECT kpi_id, date, breakdown, breakdown_value, value, computed_at FROM kpi_values " \
              "WHERE source = 'ga4_api' ORDER BY ALL"
        with duckdb.connect(str(db), read_only=True) as con:
            first = con.execute(sql).fetchall()
        assert kpi("refresh").exit_code == 0
        with duckdb.connect(str(db), read_only=True) as con:
            assert con.execute(sql).fetchall() == first
        # one day's numbers change: only its values get a new computed_at
        fake.records = [r for r in fake.records if r.dims["date"] != "20240102"] + \
            [r for r in shop_records(DAYS, seed=99) if r.dims["date"] == "20240102"]
        load_from(kpi, fake, DAYS[1], DAYS[1])
    assert kpi("refresh").exit_code == 0
    with duckdb.connect(str(db), read_only=True) as con:
        second = con.execute(sql).fetchall()
    old = {r[:4]: r[5] for r in first}
    changed_days = {r[1] for r in second if old.get(r[:4]) != r[5]}
    assert changed_days == {DAYS[1]}
    assert len(second) == len({r[:4] for r in second})  # one value per KPI, day and breakdown value


def test_estimates_are_flagged_per_value(kpi, db):
    records = shop_records(DAYS[:1])
    records.append(Record({"date": "20240101", "sessionDefaultChannelGroup": "(other)", "deviceCategory": "mobile",
                           "country": "Germany"}, {"sessions": 7, "newUsers": 1}))
    with FakeGA4(records, thresholded=True) as fake:
        load_from(kpi, fake, DAYS[0], DAYS[0])
    assert kpi("refresh").exit_code == 0
    with duckdb.connect(str(serving_path(db)), read_only=True) as con:  # what the dashboard reads
        caveats = {(k, b, bv): set(c) for k, b, bv, c in con.execute(
            "SELECT kpi_id, breakdown, breakdown_value, caveats FROM kpi_value_caveats").fetchall()}
        values = con.execute("SELECT count(*) FROM kpi_values WHERE source = 'ga4_api'").fetchall()[0][0]
    assert len(caveats) == values  # every Data API value of a thresholded report is an estimate
    assert caveats[("sessions", "channel", "(other)")] == {"thresholded", "other_row"}
    assert caveats[("sessions", "channel", "Direct")] == {"thresholded", "other_row"}  # same report as (other)
    assert caveats[("sessions", "", "")] == {"thresholded"}  # its own report had no (other) row
    assert caveats[("average_order_value", "", "")] == {"thresholded"}


def test_reconcile_within_and_past_the_tolerance(kpi, db):
    assert kpi("load", "demo", "--events", "4000", "--days", "4", "--end-date", "2024-01-31").exit_code == 0
    assert kpi("refresh").exit_code == 0
    export = {d: v for (d, _), (v, _, _) in served_values(db, "sessions", source="ga4_export").items()}
    days = sorted(export)
    assert len(days) == 4

    def api_sessions(factor: float) -> list[Record]:
        return [Record({"date": d.strftime("%Y%m%d"), "sessionDefaultChannelGroup": "Direct",
                        "deviceCategory": "desktop", "country": "Germany"}, {"sessions": round(v * factor, 3)})
                for d, v in export.items()]

    with FakeGA4(api_sessions(1.02)) as fake:
        load_from(kpi, fake, days[0], days[-1])
        assert kpi("refresh").exit_code == 0
        within = kpi("reconcile", "--kpi", "sessions", "--tolerance", "0.05")
        assert within.exit_code == 0, within.output
        assert "All 4 KPI-days agree within 5.0%." in within.stdout

        fake.records = api_sessions(1.2)
        load_from(kpi, fake, days[0], days[-1])
    assert kpi("refresh").exit_code == 0
    past = kpi("reconcile", "--kpi", "sessions", "--tolerance", "0.05", "--format", "json")
    assert past.exit_code == 1
    report = json.loads(past.stdout)
    assert report["compared"] == 4 and report["past"] == 4
    assert all(c["difference"] == pytest.approx(0.2) for c in report["comparisons"])
    text = kpi("reconcile", "--kpi", "sessions")
    assert text.exit_code == 1 and "4 of 4 KPI-days differ by more than 5.0%" in text.stdout
    assert kpi("reconcile", "--kpi", "sessions", "--tolerance", "0.25").exit_code == 0


def test_reconcile_names_an_unknown_kpi(kpi, db):
    assert kpi("load", "demo", "--events", "500", "--days", "2", "--end-date", "2024-01-31").exit_code == 0
    assert kpi("refresh").exit_code == 0
    result = kpi("reconcile", "--kpi", "sesions")
    assert result.exit_code == 1 and "Did you mean `sessions`?" in result.stderr
    nothing = kpi("reconcile")
    assert nothing.exit_code == 0 and "Nothing to compare" in nothing.stdout
