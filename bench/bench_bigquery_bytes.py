"""What `kpi refresh --engine bigquery` would make BigQuery process for the example KPIs on the demo property.

BigQuery's dry run reports the logical bytes of the columns a query reads, over the tables it reads; the local
emulator reports 0, so this computes the same figure from the data by BigQuery's documented sizes (STRING: 2
bytes + its UTF-8 length; INT64 and FLOAT64: 8 bytes; NULL: 0; a RECORD: its fields; a REPEATED field: its
elements). The columns are those the generated batch statement reads from the export.

    python bench/bench_bigquery_bytes.py [--events 200000 --days 90]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generator.plan.queries import compile_plan  # noqa: E402
from generator.rules.validate import validate_paths  # noqa: E402
from generator.sql.attribution import LOOKBACK_DAYS  # noqa: E402
from warehouse.bigquery.settings import human_bytes, on_demand_usd  # noqa: E402
from warehouse.period_values import bucket_start, dashboard_periods  # noqa: E402
from warehouse.refresh import batches  # noqa: E402
from warehouse.refresh_days import KpiState, days_to_refresh, format_day, parse_day  # noqa: E402
from warehouse.sources.demo import generate_demo_events  # noqa: E402

_S = "coalesce(2 + strlen({0}), 0)"  # strlen: bytes of the UTF-8 text
_N = "CASE WHEN {0} IS NULL THEN 0 ELSE 8 END"
PER_EVENT = " + ".join([
    _S.format("event_date"), _N.format("event_timestamp"), _S.format("event_name"), _S.format("user_pseudo_id"),
    _S.format("device.category"), _S.format("geo.country"), _S.format("ecommerce.transaction_id"),
    *(_S.format(f"collected_traffic_source.{f}") for f in ("manual_campaign_name", "manual_source",
                                                           "manual_medium", "gclid")),
    *(_S.format(f"session_traffic_source_last_click.{f}") for f in (
        "manual_campaign.source", "manual_campaign.medium", "manual_campaign.campaign_name",
        "google_ads_campaign.campaign_id", "google_ads_campaign.campaign_name", "cross_channel_campaign.source",
        "cross_channel_campaign.medium", "cross_channel_campaign.campaign_name",
        "cross_channel_campaign.default_channel_group")),
    "coalesce(list_sum(list_transform(event_params, lambda p: " + " + ".join([
        _S.format("p.key"), _S.format("p.value.string_value"), _N.format("p.value.int_value"),
        _N.format("p.value.float_value"), _N.format("p.value.double_value")]) + ")), 0)",
])


def main() -> None:
    args = argparse.ArgumentParser()
    args.add_argument("--events", type=int, default=200_000)
    args.add_argument("--days", type=int, default=90)
    opts = args.parse_args()
    end = dt.date(2026, 11, 30)
    events = generate_demo_events(events=opts.events, days=opts.days, seed=42, end_date=end)
    con = duckdb.connect()
    con.register("events", events)
    per_day = dict(con.execute(f"SELECT event_date, sum({PER_EVENT})::BIGINT FROM events GROUP BY 1").fetchall())
    plan = compile_plan(validate_paths([Path("kpis")]).catalog)
    loaded = {d: dt.datetime(2026, 12, 1) for d in per_day}

    def days(start: str, stop: str) -> int:
        """One statement over start … stop: also the attribution's lookback before it (counted with every
        column, an upper bound: it reads four) and up to 2 days past it (a conversion's window)."""
        first = format_day(parse_day(start) - dt.timedelta(days=LOOKBACK_DAYS))
        last = format_day(parse_day(stop) + dt.timedelta(days=2))
        return sum(b for d, b in per_day.items() if first <= d <= last)

    def periods(since: dt.date) -> int:
        """The exact values over periods: every dashboard preset and comparison, and the weeks and months from
        `since` (one statement per period; a week or month statement covers from its first bucket on)."""
        last = parse_day(max(per_day))
        jobs = [(a, b) for a, b in dashboard_periods(last) if b >= parse_day(min(per_day))]
        jobs += [(bucket_start(since, grain), last) for grain in ("week", "month")]
        return sum(days(format_day(a), format_day(b)) for a, b in jobs)

    def read(todo: dict[str, list[str]]) -> int:
        return sum(days(start, stop) for _ids, ranges in batches(plan, todo) for start, stop in ranges)

    full = read(days_to_refresh(plan, loaded, {}))
    full_periods = periods(parse_day(min(per_day)))
    new_day = format_day(end + dt.timedelta(days=1))
    per_day[new_day] = per_day[format_day(end)]
    state = {q.kpi_id: KpiState(q.definition_hash, dt.datetime(2026, 12, 1, 12)) for q in plan.ordered()}
    one = read(days_to_refresh(plan, {**loaded, new_day: dt.datetime(2026, 12, 2)}, state))
    one_periods = periods(parse_day(new_day))
    per_event = sum(per_day.values()) / (events.num_rows * (1 + 1 / opts.days))
    print(f"full refresh ({opts.days} days, {events.num_rows:,} events): {human_bytes(full)} "
          f"(${on_demand_usd(full):.5f})")
    print(f"one new day: {human_bytes(one)} (${on_demand_usd(one):.5f})")
    print(f"exact values over periods: full {human_bytes(full_periods)} (${on_demand_usd(full_periods):.5f}), "
          f"one new day {human_bytes(one_periods)} (${on_demand_usd(one_periods):.5f})")
    print(f"per event read: {per_event:,.0f} bytes; 1M events a day: {human_bytes(int(per_event * 1e6))} "
          f"(${on_demand_usd(int(per_event * 1e6)):.4f}) per day read")


if __name__ == "__main__":
    main()
