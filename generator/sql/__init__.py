"""SQL over the GA4 BigQuery export: one statement per KPI, built as a sqlglot AST, rendered per dialect.

`render_sql(kpi_query, plan, dialect)` is the entry point; `build_kpi_query` gives the dialect-neutral AST.
`render_plan_sql(plan, dialect, kpi_ids)` computes many KPIs in one statement (one read of the events, the
same rows with `kpi_id` in front), for `kpi refresh`; `build_plan_query` gives its AST.
Parameters: `start_date` and `end_date`, `YYYYMMDD` strings (`sql_parameters` makes them from dates).
Both take a `bucket` (`buckets.py`): one row per day (the default), ISO week, month, quarter, or the whole range
(`period`), every distinct count exact over its bucket.
"""

from __future__ import annotations

from datetime import date

from .batch import BATCH_COLUMNS, build_plan_query, render_plan_sql
from .buckets import BUCKETS, Bucket
from .build import RESULT_COLUMNS, build_kpi_query, render_sql
from .dialects import BIGQUERY_TABLE_PLACEHOLDER, DIALECTS, Dialect, lower


def sql_parameters(start: date, end: date) -> dict[str, str]:
    """The query parameters for the days `start` … `end` (both included), as every KPI query expects them."""
    if end < start:
        raise ValueError(f"the date range ends ({end}) before it starts ({start})")
    return {"start_date": start.strftime("%Y%m%d"), "end_date": end.strftime("%Y%m%d")}


__all__ = ["BATCH_COLUMNS", "BIGQUERY_TABLE_PLACEHOLDER", "BUCKETS", "Bucket", "DIALECTS", "RESULT_COLUMNS", "Dialect", "build_kpi_query",
           "build_plan_query", "lower", "render_plan_sql", "render_sql", "sql_parameters"]
