"""`kpi reconcile`: each KPI's daily total from the export against the Data API's, within a tolerance.

GA4's user and session counts are estimates (HyperLogLog++) and the Data API applies thresholding, so
exact equality is not expected; the difference is relative to the export, the complete data.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

DEFAULT_TOLERANCE = 0.05

RECONCILE_SQL = """
    SELECT e.kpi_id, e.date, e.value AS export_value, a.value AS api_value
    FROM kpi_values e
    JOIN kpi_values a ON a.kpi_id = e.kpi_id AND a.date = e.date AND a.breakdown = e.breakdown
        AND a.breakdown_value = e.breakdown_value
    WHERE e.source = 'ga4_export' AND a.source = 'ga4_api' AND e.breakdown = ''
      AND e.value IS NOT NULL AND a.value IS NOT NULL
      AND ($kpi IS NULL OR e.kpi_id = $kpi)
    ORDER BY e.kpi_id, e.date
"""


@dataclass(frozen=True)
class Comparison:
    kpi_id: str
    date: dt.date
    export: float
    api: float
    difference: float  # |api - export| / |export|; inf when the export is 0 and the API is not
    within: bool


@dataclass(frozen=True)
class KpiReconciliation:
    kpi_id: str
    days: int
    past: int
    worst: Comparison


@dataclass(frozen=True)
class Reconciliation:
    tolerance: float
    comparisons: list[Comparison]

    @property
    def past(self) -> list[Comparison]:
        return [c for c in self.comparisons if not c.within]

    def per_kpi(self) -> list[KpiReconciliation]:
        out: dict[str, list[Comparison]] = {}
        for c in self.comparisons:
            out.setdefault(c.kpi_id, []).append(c)
        return [KpiReconciliation(k, len(cs), sum(not c.within for c in cs), max(cs, key=lambda c: c.difference))
                for k, cs in out.items()]

    def line(self) -> str:
        n = len(self.comparisons)
        if not self.past:
            return f"✓ All {n} KPI-days agree within {self.tolerance:.1%}."
        worst = max(self.past, key=lambda c: c.difference)
        return (f"✗ {len(self.past)} of {n} KPI-days differ by more than {self.tolerance:.1%} "
                f"(largest: {worst.kpi_id} on {worst.date}, {worst.difference:.1%}).")

    def as_dict(self) -> dict[str, object]:
        def row(c: Comparison) -> dict[str, object]:
            diff = None if math.isinf(c.difference) else round(c.difference, 6)
            return {"kpi": c.kpi_id, "date": c.date.isoformat(), "export": c.export, "api": c.api,
                    "difference": diff, "within": c.within}

        return {"tolerance": self.tolerance, "compared": len(self.comparisons), "past": len(self.past),
                "comparisons": [row(c) for c in self.comparisons]}


def relative_difference(export: float, api: float) -> float:
    if export == api:
        return 0.0
    if export == 0:
        return math.inf
    return abs(api - export) / abs(export)


def reconcile(rows: list[tuple[str, dt.date, float, float]], tolerance: float) -> Reconciliation:
    """Rows of (kpi, day, export value, Data API value) → a comparison per KPI and day."""
    comparisons = []
    for kpi_id, day, export, api in rows:
        diff = relative_difference(float(export), float(api))
        comparisons.append(Comparison(kpi_id, day, float(export), float(api), diff, diff <= tolerance + 1e-12))
    return Reconciliation(tolerance, comparisons)
