"""Expected KPI values computed straight from the fixture's rows, in plain Python.

Deliberately independent of dashboards/ (no pandas, no dashboards imports), so a bug in the
dashboard's arithmetic or formatting cannot hide by being shared with the test.
"""

from __future__ import annotations

from datetime import date, timedelta

from fixture_warehouse import Fixture


def totals(fixture: Fixture, kpi_id: str, start: date, end: date) -> list[dict]:
    """The daily totals the dashboard must count: one a day, the GA4 export's where it holds the day,
    else the Data API's (where both hold a day, the Data API copy is only for reconciling)."""
    by_day: dict[date, dict] = {}
    for row in fixture.values:
        if row["kpi_id"] != kpi_id or row["breakdown"] != "" or not start <= row["date"] <= end:
            continue
        if row["date"] not in by_day or row["source"] == "ga4_export":
            by_day[row["date"]] = row
    return [by_day[day] for day in sorted(by_day)]


def sources(fixture: Fixture, kpi_id: str, start: date, end: date) -> dict[str, list[date]]:
    """Which source each counted day came from: source → sorted days."""
    out: dict[str, list[date]] = {}
    for row in totals(fixture, kpi_id, start, end):
        out.setdefault(row["source"], []).append(row["date"])
    return out


def estimate_days(fixture: Fixture, kpi_id: str, start: date, end: date) -> dict[date, list[str]]:
    """The counted days GA4 flagged (a caveat on the very row counted), with their caveats."""
    flagged = {(c["date"], c["source"]): c["caveats"] for c in fixture.caveats if c["kpi_id"] == kpi_id}
    return {
        row["date"]: flagged[(row["date"], row["source"])]
        for row in totals(fixture, kpi_id, start, end)
        if (row["date"], row["source"]) in flagged
    }


def value(fixture: Fixture, kpi_id: str, start: date, end: date) -> float:
    rows = totals(fixture, kpi_id, start, end)
    aggregation = fixture.kpi(kpi_id).aggregation
    if aggregation == "ratio":
        return sum(r["numerator"] for r in rows) / sum(r["denominator"] for r in rows)
    if aggregation == "sum":
        return sum(r["value"] for r in rows)
    return sum(r["value"] for r in rows) / len(rows)


def month_days(day: date) -> int:
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def text(fixture: Fixture, kpi_id: str, number: float) -> str:
    """How the dashboard should print `number` for this KPI (the contract's formats)."""
    kpi = fixture.kpi(kpi_id)
    if kpi.format == "percent":
        return f"{number * 100:.1f}%"
    if kpi.format == "currency":
        assert kpi.currency == "EUR" and number >= 1000
        return f"€{number:,.0f}"
    if kpi.format == "duration":
        minutes, seconds = divmod(round(number), 60)
        return f"{minutes}m {seconds:02d}s"
    assert number >= 100 or number == int(number)
    return f"{number:,.0f}"
