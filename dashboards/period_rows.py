"""Every KPI's daily totals over one period, reduced at once to what a card shows.

The overview builds a card for every active KPI (50 and more) over three periods: slicing a frame per KPI
and period and asking pandas a dozen questions of each cost more than reading the rows. Here each question
is asked once, of all KPIs' rows together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from .estimates import ordered_caveats
from .measures import DaySums, sums_by
from .periods import Period

NO_ROWS = DaySums(rows=0, value_sum=0.0, value_count=0, numerator_sum=0.0, denominator_sum=None)


@dataclass(frozen=True)
class PeriodRows:
    """One KPI's daily totals over one period, reduced."""

    sums: DaySums = NO_ROWS
    days: int = 0  # days with a row
    sources: frozenset[str] = frozenset()
    caveats: tuple[str, ...] = ()  # GA4's caveats on any of the days (estimates.caveats_of)
    flagged_days: tuple[date, ...] = ()  # the days carrying them, sorted (estimates.estimate_days)
    values: tuple[float, ...] = field(default=(), repr=False)  # the days' values in date order, gaps dropped


def period_rows(totals: pd.DataFrame, period: Period) -> dict[str, PeriodRows]:
    """kpi_id → its reduced rows within `period`, for every KPI with a row in it (`data.daily_totals`' columns;
    source and caveats may be absent)."""
    rows = totals[(totals["date"] >= period.start) & (totals["date"] <= period.end)]
    if rows.empty:
        return {}
    rows = rows.sort_values(["kpi_id", "date"], kind="stable")
    sums = sums_by(rows)
    keys, dates = rows["kpi_id"].to_numpy(), rows["date"].to_numpy()
    values = rows["value"].to_numpy(dtype=float, na_value=np.nan)
    sources = rows["source"].to_numpy() if "source" in rows else None
    caveats = rows["caveats"].to_numpy() if "caveats" in rows else None
    starts = [0, *(np.flatnonzero(keys[1:] != keys[:-1]) + 1), len(keys)]
    out = {}
    for a, b in zip(starts, starts[1:], strict=False):
        kpi = str(keys[a])
        flagged = [i for i in range(a, b) if caveats[i]] if caveats is not None else []
        kept = values[a:b][~np.isnan(values[a:b])]
        out[kpi] = PeriodRows(
            sums=sums[kpi],
            days=len(set(dates[a:b])),
            sources=frozenset(sources[a:b]) if sources is not None else frozenset(),
            caveats=ordered_caveats({c for i in flagged for c in caveats[i]}),
            flagged_days=tuple(sorted({dates[i] for i in flagged})),
            values=tuple(float(v) for v in kept),
        )
    return out
