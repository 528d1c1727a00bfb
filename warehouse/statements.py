"""The DuckDB statements a refresh runs, built for this warehouse (its flattened params) and kept between
refreshes (`sql_texts.py`): the KPIs' batch statements, GA4's attribution methods, a subject's values per day."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from generator.plan.queries import QueryPlan
from generator.rules.value_uses import Subject
from generator.sql import render_plan_sql
from generator.sql.attribution_methods import render_methods_sql
from generator.sql.buckets import Bucket
from generator.sql.values import render_values_sql

from .flat_params import warehouse_shape
from .sql_texts import kept_text, text_key


def plan_sql(con: duckdb.DuckDBPyConnection, plan: QueryPlan, kpi_ids: Sequence[str] | None = None,
             bucket: Bucket = "day", many_periods: bool = False) -> str:
    """`render_plan_sql(plan, "duckdb", kpi_ids, bucket=…, many_periods=…)` for this warehouse."""
    shape = warehouse_shape(con)
    ids = None if kpi_ids is None else list(kpi_ids)
    key = text_key("plan", plan, shape, ids, bucket, many_periods)
    return kept_text(con, key, lambda: render_plan_sql(plan, "duckdb", ids, bucket=bucket, many_periods=many_periods,
                                                       export=shape))


def methods_sql(con: duckdb.DuckDBPyConnection) -> str:
    """GA4's attribution methods per day (`generator/sql/attribution_methods.py`) for this warehouse."""
    shape = warehouse_shape(con)
    return kept_text(con, text_key("methods", None, shape), lambda: render_methods_sql("duckdb", export=shape))


def values_sql(con: duckdb.DuckDBPyConnection, subject: Subject, limit: int) -> str:
    """A subject's values per day, at most `limit` a day (`generator/sql/values.py`), for this warehouse."""
    shape = warehouse_shape(con)
    key = text_key("values", None, shape, subject, limit)
    return kept_text(con, key, lambda: render_values_sql(subject, "duckdb", limit, export=shape, per_day=True))
