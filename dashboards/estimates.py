"""When a number is GA4's estimate, and where each day's value came from, in plain words.

`data.daily_totals` picks one source a day (the BigQuery export when both exist) and attaches GA4's
caveats to the days it took from the Data API; this module only reads those rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta

import pandas as pd
from warehouse.periods import format_range

EXPORT, API = "ga4_export", "ga4_api"
BADGE = ":blue-badge[≈ estimate]"
# In the order they are named; unknown caveats (a newer warehouse) are named as they are stored.
CAVEATS = {
    "sampled": "sampled (GA4 computed it from a sample of the events)",
    "thresholded": "thresholded (GA4 withheld rows with few users, to protect their privacy)",
    "other_row": "`(other)` row (GA4 folded rare values into one row)",
}
SOURCES = {EXPORT: "the BigQuery export", API: "the GA4 Data API"}
MAX_RUNS = 6  # date runs named before "and N more"
_EXPORT_ONLY = re.compile(r",?\s*so (this KPI is computed|it comes) from the BigQuery export only\.?$")


def caveats_of(rows: pd.DataFrame) -> tuple[str, ...]:
    """Every caveat on the rows (known ones first, in CAVEATS order): empty when none is an estimate."""
    if rows.empty or "caveats" not in rows:
        return ()
    return ordered_caveats({caveat for caveats in rows["caveats"] for caveat in caveats or ()})


def ordered_caveats(found: set[str]) -> tuple[str, ...]:
    """Caveats in the order they are named: known ones in CAVEATS order, then unknown ones sorted."""
    return tuple(name for name in CAVEATS if name in found) + tuple(sorted(found - set(CAVEATS)))


def estimate_days(rows: pd.DataFrame) -> list[date]:
    """The days whose value GA4 flagged, sorted."""
    if rows.empty or "caveats" not in rows:
        return []
    return sorted({day for day, caveats in zip(rows["date"], rows["caveats"], strict=True) if caveats})


def describe_caveats(caveats: Iterable[str]) -> str:
    """("sampled", "other_row") → "sampled (…); `(other)` row (…)"."""
    return "; ".join(CAVEATS.get(name, name) for name in caveats)


def estimate_note(rows: pd.DataFrame) -> str | None:
    """What the "≈ estimate" badge means for these rows, or None when no value shown is an estimate."""
    caveats = caveats_of(rows)
    return estimate_text(caveats, estimate_days(rows)) if caveats else None


def estimate_text(caveats: tuple[str, ...], days: list[date]) -> str | None:
    """`estimate_note` from the rows' caveats (`caveats_of`) and flagged days (`estimate_days`)."""
    if not caveats:
        return None
    return (
        f"≈ Estimate: it uses GA4 Data API values that GA4 flagged on {_count(len(days), 'day')} "
        f"({describe_days(days)}): {describe_caveats(caveats)}."
    )


def source_note(rows: pd.DataFrame) -> str | None:
    """Which source each day came from, when the rows mix both; None when they come from one."""
    if rows.empty or "source" not in rows:
        return None
    by_source: dict[str, set[date]] = {}
    for day, source in zip(rows["date"], rows["source"], strict=True):
        by_source.setdefault(source, set()).add(day)
    if len(by_source) < 2:
        return None
    parts = [
        f"{SOURCES.get(source, source)} on {_count(len(days), 'day')} ({describe_days(sorted(days))})"
        for source, days in sorted(by_source.items(), key=lambda item: (item[0] != EXPORT, item[0]))
    ]
    return "Sources: " + "; ".join(parts) + ". Where both hold a day, the export's value is used."


def api_note_words(note: str | None) -> str | None:
    """`kpi_definitions.api_note` as a sentence: "Computed from the BigQuery export only: …"."""
    if not note or not str(note).strip():
        return None
    reason = _EXPORT_ONLY.sub("", str(note).strip()).rstrip(".")
    return f"Computed from the BigQuery export only: {reason}."


def describe_days(days: list[date]) -> str:
    """Sorted days as runs: "1–3 Mar 2026, 9 Mar 2026"."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and day == runs[-1][1] + timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    shown = [format_range(start, end) for start, end in runs[:MAX_RUNS]]
    if len(runs) > MAX_RUNS:
        shown.append(f"and {len(runs) - MAX_RUNS} more")
    return ", ".join(shown)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
