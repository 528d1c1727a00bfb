"""`kpi status`'s attribution part: per day, how many sessions got their channel by which method (issue 10 §1).

The terminal gets one row per run of consecutive days with the same methods (an export's eras, a few rows);
`kpi status --attribution` gives one row per day in any format; a day without any session-level source gets the
loud one-sentence warning of `attribution_methods.no_source_warning`.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from generator.sql.attribution import METHODS

from .attribution_summary import no_source_warning, runs, summarize
from .reading import as_int, read_serving

DAY_COLUMNS = ["date", "sessions", *METHODS]
RUN_COLUMNS = ["from", "to", "days", "sessions", *METHODS]


def method_rows(path: Path) -> list[tuple[str, str, int]] | None:
    """(YYYY-MM-DD, method, sessions) rows of the serving copy; None for a copy from before they were counted."""
    try:
        rows, _ = read_serving(path, "SELECT strftime(date, '%Y-%m-%d'), method, sessions FROM attribution_methods "
                                     "ORDER BY 1, 2")
    except duckdb.CatalogException:
        return None
    return [(str(d), str(m), as_int(n)) for d, m, n in rows]


def per_day(rows: list[tuple[str, str, int]]) -> list[tuple[object, ...]]:
    """One row per day: date, sessions, then the sessions of each method."""
    days: dict[str, dict[str, int]] = {}
    for day, method, n in rows:
        days.setdefault(day, {})[method] = n
    return [(day, sum(c.values()), *(c.get(m, 0) for m in METHODS)) for day, c in sorted(days.items())]


def per_run(rows: list[tuple[str, str, int]]) -> list[tuple[object, ...]]:
    return [(first, last, n, total, *(c.get(m, 0) for m in METHODS)) for first, last, n, total, c in runs(rows)]


def warning(rows: list[tuple[str, str, int]]) -> str | None:
    return no_source_warning(summarize(rows).no_source_days)
