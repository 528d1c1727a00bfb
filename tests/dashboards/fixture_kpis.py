"""The fixture's KPIs: definitions, targets and how their daily values are drawn (see fixture_warehouse)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

DATA_START = date(2025, 9, 1)
DATA_END = date(2026, 10, 28)  # a Wednesday: month and quarter to date are partial

API_ONLY = (date(2026, 3, 1), date(2026, 3, 20))
API_CAVEATS = {date(2026, 3, 10): ("thresholded",), date(2026, 3, 12): ("other_row", "sampled")}
BOUNCE_API_NOTE = (
    "it compares `engagement_time_msec` as a number, but the Data API reports custom params as text "
    "dimensions, so the comparison would not be exact"
)

CHANNELS = ["Organic Search", "Paid Search", "Direct", "Email", "Referral", "Organic Social", "Display"]
DEVICES = ["desktop", "mobile", "tablet"]


@dataclass
class KpiSpec:
    """One fixture KPI: its definition, targets, and how its daily values are drawn."""

    kpi_id: str
    title: str
    objective: str
    team: str
    format: str
    aggregation: str
    direction: str = "up"
    time_grain: str = "day"  # the grain of the trend chart; a `sum` target is per grain
    level: float = 1.0  # daily value (sum, mean) or rate (ratio)
    volume: float = 1000.0  # daily denominator for ratios
    targets: list[tuple[date, float]] = field(default_factory=list)
    warn: float | None = None
    critical: float | None = None
    breakdowns: dict[str, list[str]] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    status: str = "active"
    currency: str | None = None
    owner: str = "owner@example.com"
    changes: list[date] = field(default_factory=list)  # definition changes after the first
    api_copy: bool = False  # also store Data API totals (as `kpi reconcile` needs); never double-counted
    # Days (inclusive) held from the Data API only (no export yet): every row's source is `ga4_api`.
    api_only: tuple[date, date] | None = None
    # GA4's caveats on the KPI's `ga4_api` daily totals (api_only days or api_copy rows), by day.
    caveats: dict[date, tuple[str, ...]] = field(default_factory=dict)
    api_note: str | None = None  # why the Data API cannot compute it


@dataclass
class Fixture:
    """The rows written, for tests to compute expectations from."""

    path: Path
    kpis: list[KpiSpec]
    values: list[dict]
    event_quality: list[dict]
    event_status: list[dict]
    start: date
    end: date
    caveats: list[dict] = field(default_factory=list)

    def kpi(self, kpi_id: str) -> KpiSpec:
        return next(k for k in self.kpis if k.kpi_id == kpi_id)


def small_kpis() -> list[KpiSpec]:
    """Six active KPIs over three objectives and two teams, one deprecated; each status once."""
    return [
        KpiSpec(
            "checkout_conversion",
            "Checkout conversion rate",
            "Grow online sales",
            "Growth",
            "percent",
            "ratio",
            level=0.031,
            volume=2000,
            targets=[(DATA_START, 0.030), (date(2026, 10, 1), 0.034)],
            warn=0.028,
            critical=0.022,
            breakdowns={"channel": CHANNELS, "device_category": DEVICES},
            events=["begin_checkout", "purchase"],
            owner="ana@shop.example",
        ),
        KpiSpec(
            "revenue",
            "Revenue",
            "Grow online sales",
            "Growth",
            "currency",
            "sum",
            time_grain="month",
            level=2200,
            targets=[(DATA_START, 60000.0)],
            warn=50000,
            critical=40000,
            currency="EUR",
            api_copy=True,
            caveats={date(2026, 10, 20): ("sampled",)},
            breakdowns={"channel": CHANNELS},
            events=["purchase"],
            owner="ben@shop.example",
        ),
        KpiSpec(
            "bounce_rate",
            "Bounce rate",
            "Improve engagement",
            "Content",
            "percent",
            "ratio",
            direction="down",
            time_grain="week",
            level=0.52,
            volume=5000,
            targets=[(DATA_START, 0.40)],
            warn=0.45,
            critical=0.50,
            breakdowns={"device_category": DEVICES},
            events=["session_start", "page_view"],
            api_note=BOUNCE_API_NOTE,
        ),
        KpiSpec(
            "avg_engagement_time",
            "Average engagement time",
            "Improve engagement",
            "Content",
            "duration",
            "mean",
            level=85,
            targets=[(DATA_START, 80.0)],
            warn=60,
            critical=40,
            events=["user_engagement"],
        ),
        KpiSpec(
            "newsletter_signups",
            "Newsletter sign-ups",
            "Grow audience",
            "Growth",
            "number",
            "sum",
            time_grain="month",
            level=7,
            targets=[(DATA_START, 300.0)],
            warn=240,
            critical=150,
            events=["sign_up"],
            changes=[date(2026, 10, 10)],
        ),
        KpiSpec(
            "returning_users",
            "Returning users",
            "Grow audience",
            "Content",
            "number",
            "sum",
            level=420,
            events=["session_start"],
            api_only=API_ONLY,
            caveats=dict(API_CAVEATS),
        ),
        KpiSpec(
            "legacy_sessions",
            "Legacy sessions",
            "Grow audience",
            "Content",
            "number",
            "sum",
            level=900,
            status="deprecated",
            events=["session_start"],
        ),
    ]


def generic_kpis(count: int, breakdowns: int = 3, values_per_breakdown: int = 5) -> list[KpiSpec]:
    """`count` KPIs cycling through formats, teams and objectives, each with `breakdowns` dimensions."""
    kinds = [
        ("percent", "ratio", 0.05, [(DATA_START, 0.05)], 0.045, 0.04),
        ("currency", "sum", 1500.0, [(DATA_START, 45000.0)], 40000, 30000),
        ("number", "sum", 300.0, [(DATA_START, 9500.0)], 8000, 6000),
        ("duration", "mean", 70.0, [(DATA_START, 72.0)], 60, 45),
    ]
    dims = {f"dim_{d}": [f"value {v}" for v in range(values_per_breakdown)] for d in range(breakdowns)}
    kpis = []
    for i in range(count):
        fmt, aggregation, level, targets, warn, critical = kinds[i % len(kinds)]
        kpis.append(
            KpiSpec(
                f"kpi_{i:03d}",
                f"KPI {i:03d}",
                f"Objective {i % 5}",
                f"Team {i % 4}",
                fmt,
                aggregation,
                time_grain="month",
                level=level * (0.85 + 0.3 * ((i * 37) % 10) / 10),
                targets=targets,
                warn=warn,
                critical=critical,
                breakdowns=dims,
                events=[f"event_{i % 8}"],
                currency="EUR" if fmt == "currency" else None,
            )
        )
    return kpis
