"""SQL over the GA4 BigQuery export: one statement per KPI, built as a sqlglot AST, rendered per dialect.

`render_sql(kpi_query, plan, dialect)` is the entry point; `build_kpi_query` gives the dialect-neutral AST.
`render_plan_sql(plan, dialect, kpi_ids)` computes many KPIs in one statement (one read of the events, the
same rows with `kpi_id` in front), for `kpi refresh`; `build_plan_query` gives its AST.
Parameters: `start_date` and `end_date`, `YYYYMMDD` strings (`sql_parameters` makes them from dates).
Both take a `bucket` (`buckets.py`): one row per day (the default), ISO week, month, quarter, or the whole range
(`period`), every distinct count exact over its bucket.
"""

from __future__ import annotations

import importlib
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .batch import BATCH_COLUMNS, build_plan_query, render_plan_sql
    from .buckets import BUCKETS, Bucket
    from .build import RESULT_COLUMNS, build_kpi_query, render_sql
    from .dialects import BIGQUERY_TABLE_PLACEHOLDER, DIALECTS, Dialect, lower

# Imported on first use (sqlglot takes a tenth of a second): `kpi validate` reads only the channel names and the
# export eras from this package, and `from generator.sql import render_sql` works as before.
_HOMES = {"BATCH_COLUMNS": "batch", "build_plan_query": "batch", "render_plan_sql": "batch", "BUCKETS": "buckets",
          "Bucket": "buckets", "RESULT_COLUMNS": "build", "build_kpi_query": "build", "render_sql": "build",
          "BIGQUERY_TABLE_PLACEHOLDER": "dialects", "DIALECTS": "dialects", "Dialect": "dialects", "lower": "dialects"}


def __getattr__(name: str) -> object:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    globals()[name] = value
    return value


def sql_parameters(start: date, end: date) -> dict[str, str]:
    """The query parameters for the days `start` … `end` (both included), as every KPI query expects them."""
    if end < start:
        raise ValueError(f"the date range ends ({end}) before it starts ({start})")
    return {"start_date": start.strftime("%Y%m%d"), "end_date": end.strftime("%Y%m%d")}


__all__ = ["BATCH_COLUMNS", "BIGQUERY_TABLE_PLACEHOLDER", "BUCKETS", "Bucket", "DIALECTS", "RESULT_COLUMNS", "Dialect", "build_kpi_query",
           "build_plan_query", "lower", "render_plan_sql", "render_sql", "sql_parameters"]
