"""What the loaded warehouse says about a KPI being edited: its last 28 days, and the values a filter can take.

Read-only and short-lived: each read opens the store (or its serving copy) read-only and closes it, so the
editor never blocks `kpi load` or `kpi refresh`. The KPI's numbers come from the batch statement
`kpi refresh` runs (`render_plan_sql`), over the raw export (`ga4_events`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
from generator.plan.queries import QueryPlan
from generator.sql import render_plan_sql
from warehouse.connection import StoreError, connect_store
from warehouse.statements import over_raw

DAYS = 28
LOCK_TIMEOUT = 3.0
MAX_VALUES = 50
# Event-level dimensions read straight from the export's columns (fixed expressions, never user text).
_EVENT_DIMENSIONS = {"device_category": "device.category", "operating_system": "device.operating_system",
                     "browser": "device.browser", "language": "device.language", "country": "geo.country",
                     "region": "geo.region", "city": "geo.city", "platform": "platform"}


@dataclass(frozen=True)
class Trend:
    start: dt.date
    end: dt.date
    value: float | None  # over the whole period
    daily: list[tuple[dt.date, float | None]]
    aggregation: str


def last_28_days(store: Path, plan: QueryPlan, kpi_id: str) -> Trend | str:
    """The KPI over the last 28 days of loaded data, or a sentence saying why not."""
    query = plan.kpis.get(kpi_id)
    if query is None:
        return "Only active KPIs without errors can be computed."
    if not store.exists():
        return "No warehouse loaded (run `kpi load demo` or `kpi load ga4-export`) — no numbers to show yet."
    try:
        con = connect_store(store, read_only=True, timeout=LOCK_TIMEOUT)
    except (StoreError, duckdb.Error) as exc:
        return f"The warehouse cannot be read right now ({str(exc).splitlines()[0]}); try again in a moment."
    try:
        last = con.execute("SELECT max(event_date) FROM events").fetchone()
        if not last or last[0] is None:
            return "The warehouse has no GA4 export events loaded."
        end = dt.datetime.strptime(last[0], "%Y%m%d").date()
        start = end - dt.timedelta(days=DAYS - 1)
        # The statement as `kpi refresh` runs it, over the raw export: the KPI being edited may read a param
        # the warehouse keeps no column for yet (`warehouse/slim_events.py`).
        cursor = con.execute(over_raw(render_plan_sql(plan, "duckdb", [kpi_id])),
                             {"start_date": start.strftime("%Y%m%d"), "end_date": end.strftime("%Y%m%d")})
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    except duckdb.Error as exc:
        return f"The KPI could not be computed on the warehouse: {str(exc).splitlines()[0]}"
    finally:
        con.close()
    totals = {r["date"]: r for r in rows if r["kpi_id"] == kpi_id and r["breakdown"] == ""}
    return _trend(totals, start, end, query.aggregation)


def _trend(totals: dict[dt.date, dict], start: dt.date, end: dt.date, aggregation: str) -> Trend:
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    zero_fill = aggregation == "sum"  # a day without the event has no row: a count or sum of 0
    daily = [(d, totals[d]["value"] if d in totals else (0.0 if zero_fill else None)) for d in days]
    present = [totals[d] for d in days if d in totals]
    if aggregation == "ratio":
        num = sum(r["numerator"] or 0 for r in present)
        den = sum(r["denominator"] or 0 for r in present)
        value = num / den if den else None
    elif aggregation == "sum":
        value = float(sum(v or 0 for _d, v in daily))
    else:
        values = [r["value"] for r in present if r["value"] is not None]
        value = sum(values) / len(values) if values else None
    return Trend(start, end, value, daily, aggregation)


def filter_values(store: Path, serving: Path, subject: str, name: str, event: str | None) -> list[str]:
    """Values seen in the loaded data for a param of an event, or a dimension (empty when nothing is loaded)."""
    try:
        if subject == "param" and event:
            return _read(store, "SELECT DISTINCT coalesce(p.value.string_value, CAST(p.value.int_value AS VARCHAR), "
                         "CAST(coalesce(p.value.double_value, p.value.float_value) AS VARCHAR)) AS v "
                         "FROM (SELECT unnest(event_params) AS p FROM ga4_events WHERE event_name = $e) "
                         "WHERE p.key = $k AND v IS NOT NULL ORDER BY v LIMIT $n",
                         {"e": event, "k": name, "n": MAX_VALUES})
        if subject == "dimension" and name in _EVENT_DIMENSIONS:
            column = _EVENT_DIMENSIONS[name]
            # from the raw export: the warehouse keeps a column only of the fields its KPI files read already
            return _read(store, f"SELECT DISTINCT {column} AS v FROM ga4_events WHERE v IS NOT NULL "  # noqa: S608
                         "ORDER BY v LIMIT $n", {"n": MAX_VALUES})
        if subject == "dimension":
            return _read(serving, "SELECT DISTINCT breakdown_value AS v FROM kpi_values WHERE breakdown = $b "
                         "ORDER BY v LIMIT $n", {"b": name, "n": MAX_VALUES})
    except (StoreError, duckdb.Error):
        return []
    return []


def _read(path: Path, sql: str, params: dict[str, object]) -> list[str]:
    if not path.exists():
        return []
    con = connect_store(path, read_only=True, timeout=LOCK_TIMEOUT)
    try:
        return [str(r[0]) for r in con.execute(sql, params).fetchall()]
    finally:
        con.close()
