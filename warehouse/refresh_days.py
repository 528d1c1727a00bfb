"""Which days each KPI must recompute: new data, GA4's 3-day late-data window, changed definitions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from generator.plan.queries import ConversionQuery, KpiQuery, QueryPlan

LATE_DATA_DAYS = 3  # GA4 rewrites export tables for up to 3 days after the event date


@dataclass(frozen=True)
class KpiState:
    definition_hash: str
    refreshed_at: dt.datetime


def parse_day(day: str) -> dt.date:
    return dt.datetime.strptime(day, "%Y%m%d").date()


def format_day(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


def days_to_refresh(
    plan: QueryPlan,
    loaded: dict[str, dt.datetime],
    state: dict[str, KpiState],
    full: bool = False,
    purchase_days: Iterable[str] = (),
) -> dict[str, list[str]]:
    """For every KPI of the plan, the YYYYMMDD days to recompute (sorted).

    `loaded` maps each loaded day to when it was last (re)loaded; `state` holds each KPI's definition
    hash and last refresh time. A KPI recomputes every day when it is new, its definition changed, or
    `full`; otherwise the days (re)loaded since its last refresh plus the last LATE_DATA_DAYS days of
    data. A KPI that reads `purchase` also recomputes `purchase_days` (loaded days whose deduplicated
    purchases changed because a transaction id now first appears on another day: `first_seen.py`). A
    conversion also recomputes the days whose window reaches a recomputed day, a first-ever KPI every
    day after a (re)loaded one, and a derived KPI every day any of its components recomputes.
    """
    all_days = sorted(loaded)
    if not all_days:
        return {q.kpi_id: [] for q in plan.ordered()}
    trailing = set(all_days[-LATE_DATA_DAYS:])
    purchase_days = set(purchase_days) & set(all_days)
    out: dict[str, list[str]] = {}
    for q in plan.ordered():
        st = state.get(q.kpi_id)
        if full or st is None or st.definition_hash != q.definition_hash:
            out[q.kpi_id] = all_days
            continue
        days = {d for d, at in loaded.items() if at > st.refreshed_at} | trailing
        days |= _later_for_first_ever(q, {d for d, at in loaded.items() if at > st.refreshed_at}, all_days)
        if any(m.dedupe_transactions for m in q.measures()):
            days |= purchase_days
        days = _widen_for_window(q, days, set(all_days))
        for comp in q.components:
            days |= set(out.get(comp, []))
        out[q.kpi_id] = sorted(days)
    return out


def _widen_for_window(q: KpiQuery, days: set[str], available: set[str]) -> set[str]:
    if not isinstance(q, ConversionQuery) or not days:
        return days
    reach = -(-q.conversion.window_seconds // 86400)  # whole days the window can span
    widened = set(days)
    for d in days:
        base = parse_day(d)
        for back in range(1, reach + 1):
            earlier = format_day(base - dt.timedelta(days=back))
            if earlier in available:
                widened.add(earlier)
    return widened


def _later_for_first_ever(q: KpiQuery, reloaded: set[str], all_days: list[str]) -> set[str]:
    """A first-ever KPI (`generator/sql/first_ever.py`) also recomputes every day after a (re)loaded one: a day
    loaded late (a backfill) can hold a user's first event, which then is no longer first on a later day."""
    if not reloaded or not any(m.first_ever for m in q.measures()):
        return set()
    first = min(reloaded)
    return {d for d in all_days if d > first}


def contiguous_ranges(days: Iterable[str]) -> list[tuple[str, str]]:
    """[20240101, 20240102, 20240105] → [(20240101, 20240102), (20240105, 20240105)]."""
    ordered = sorted(set(days))
    ranges: list[tuple[str, str]] = []
    for d in ordered:
        if ranges and parse_day(d) - parse_day(ranges[-1][1]) == dt.timedelta(days=1):
            ranges[-1] = (ranges[-1][0], d)
        else:
            ranges.append((d, d))
    return ranges


def within_budget(ranges: Iterable[tuple[str, str]], events: dict[str, int],
                  budget: int) -> list[tuple[str, str]]:
    """The YYYYMMDD `ranges` cut into consecutive ranges of at most `budget` events each (`events`: per day; a
    day holding more is a range of its own): one statement holding every event of a long range in its working
    tables spills past DuckDB's memory limit, which costs more than reading the attribution lookback again."""
    out: list[tuple[str, str]] = []
    for start, end in ranges:
        first, size = start, 0
        day = parse_day(start)
        while day <= parse_day(end):
            n = events.get(format_day(day), 0)
            if size and size + n > budget:
                out.append((first, format_day(day - dt.timedelta(days=1))))
                first, size = format_day(day), 0
            size += n
            day += dt.timedelta(days=1)
        out.append((first, end))
    return out

