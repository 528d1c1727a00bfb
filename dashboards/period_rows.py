"""Every KPI's daily totals over one period, reduced at once to what a card shows.

The overview builds a card for every active KPI (50 and more) over three periods: slicing a frame per KPI
and period and asking pandas a dozen questions of each cost more than reading the rows. Here each question
is asked once, of all KPIs' rows together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from warehouse.periods import Period

from .estimates import ordered_caveats
from .measures import DaySums, day_sums, float_columns

NO_ROWS = DaySums(rows=0, value_sum=0.0, value_count=0, numerator_sum=0.0, denominator_sum=None)


@dataclass(frozen=True)
class PeriodRows:
    """One KPI's daily totals over one period, reduced."""

    sums: DaySums = NO_ROWS
    days: int = 0  # days with a row
    sources: frozenset[str | None] = frozenset()  # None: a row without one
    caveats: tuple[str, ...] = ()  # GA4's caveats on any of the days (estimates.caveats_of)
    flagged_days: tuple[date, ...] = ()  # the days carrying them, sorted (estimates.estimate_days)
    values: tuple[float, ...] = field(default=(), repr=False)  # the days' values in date order, gaps dropped


def period_rows(totals: pd.DataFrame, periods: Sequence[Period]) -> list[dict[str, PeriodRows]]:
    """For each period, kpi_id → its reduced rows within it, for every KPI with a row in it (`data.daily_totals`'
    columns; source and caveats may be absent). The first period is the card's own: only its rows keep their
    daily values (the sparkline)."""
    if totals.empty:
        return [{} for _ in periods]
    # Each KPI's rows together, in the order given (as aggregate() sums them); the totals come sorted.
    rows = totals if totals["kpi_id"].is_monotonic_increasing else totals.sort_values("kpi_id", kind="stable")
    codes, names = pd.factorize(rows["kpi_id"])
    dates = rows["date"].to_numpy(dtype=object)
    days = np.fromiter(map(date.toordinal, dates), dtype=np.int64, count=len(dates))  # compared as numbers
    value, numerator, denominator = float_columns(rows)
    source_codes, source_names = pd.factorize(rows["source"]) if "source" in rows else (None, [])
    source_names = [str(name) for name in source_names]
    caveats = rows["caveats"].to_numpy(dtype=object) if "caveats" in rows else None
    marked = np.fromiter(map(bool, caveats), dtype=bool, count=len(caveats)) if caveats is not None else None
    names = [str(name) for name in names]
    out = []
    for position, period in enumerate(periods):
        inside = np.flatnonzero((days >= period.start.toordinal()) & (days <= period.end.toordinal()))
        found = {}
        for span in np.split(inside, np.flatnonzero(np.diff(codes[inside])) + 1) if len(inside) else ():
            # The rows came sorted by KPI and date, so a KPI's days in a period are one run: a slice (a view)
            # rather than a copy by index.
            at = slice(span[0], span[-1] + 1) if span[-1] - span[0] + 1 == len(span) else span
            flagged = span[marked[at]] if marked is not None else ()
            found[names[codes[span[0]]]] = PeriodRows(
                sums=day_sums(value[at], numerator[at] if numerator is not None else None,
                              denominator[at] if denominator is not None else None),
                days=len(set(days[at].tolist())),
                sources=frozenset(source_names[c] if c >= 0 else None for c in set(source_codes[at].tolist()))
                if source_codes is not None else frozenset(),
                caveats=ordered_caveats({c for i in flagged for c in caveats[i]})
                if caveats is not None and len(flagged) else (),
                flagged_days=tuple(sorted({dates[i] for i in flagged})),
                values=_in_date_order(value[at], days[at]) if position == 0 else (),
            )
        out.append(found)
    return out


def _in_date_order(values: np.ndarray, dates: np.ndarray) -> tuple[float, ...]:
    ordered = values[np.argsort(dates, kind="stable")]
    return tuple(float(v) for v in ordered[~np.isnan(ordered)])
