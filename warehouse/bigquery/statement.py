"""The plan's batch statement for BigQuery, pointed at the team's export and its intraday tables.

`generator.sql.render_plan_sql(plan, "bigquery", kpi_ids)` reads the placeholder table
`your-project.analytics_123456789.events_*` with `_TABLE_SUFFIX BETWEEN @start_date AND …`, so BigQuery opens
only the daily tables of those days (`events_intraday_YYYYMMDD` never matches: `intraday_…` sorts after every
date). Here the placeholder becomes the team's `project.dataset.events_*` (an identifier node, never text
pasted into SQL), and days that have only an intraday table yet (today, yesterday) are added by name:
`OR _TABLE_SUFFIX IN UNNEST(['intraday_20240131'])`. A day with a daily table is always read from it (the daily table
replaces the intraday one when it completes, so counting both would double it).
"""

from __future__ import annotations

import datetime as dt

import sqlglot
from sqlglot import exp

from generator.plan.queries import QueryPlan
from generator.sql import BIGQUERY_TABLE_PLACEHOLDER, Bucket, render_plan_sql
from generator.sql.attribution import LOOKBACK_DAYS
from generator.sql.dialects import EARLIEST_DAY
from generator.sql.export_shape import NEWEST, ExportShape

from ..refresh_days import parse_day

INTRADAY_PREFIX = "intraday_"
WINDOW_DAYS = 31  # intraday tables this far past a range's end are read too (conversion windows reach there)
# A local emulator prunes tables by the first `_TABLE_SUFFIX IN (…)` it finds in the text, ignoring the OR.
INTRADAY_NOTE = "IN UNNEST([…]) is IN (…), in a form local BigQuery emulators also read right"


def batch_statement(plan: QueryPlan, kpi_ids: list[str], export_table: str, intraday_days: list[str],
                    start: str | None = None, end: str | None = None, bucket: Bucket = "day",
                    export: ExportShape = NEWEST) -> str:
    """The batch SQL of `kpi_ids` per `bucket` reading `export_table` (`project.dataset.events_*`) in the shape
    `export`, plus the days of `intraday_days` each read of the export covers when run for `start` … `end`."""
    sql = render_plan_sql(plan, "bigquery", kpi_ids, bucket=bucket, export=export)
    tree = sqlglot.parse_one(sql, read="bigquery")
    found = False
    for table in tree.find_all(exp.Table):
        if ".".join(p.name for p in table.parts) == BIGQUERY_TABLE_PLACEHOLDER:
            table.set("this", exp.to_identifier(export_table, quoted=True))
            for key in ("db", "catalog"):
                table.set(key, None)
            found = True
    if not found:
        raise ValueError("the BigQuery batch statement does not read the export table placeholder")
    if intraday_days:
        _add_intraday(tree, intraday_days, start, end)
    return tree.sql(dialect="bigquery", pretty=True)


def _add_intraday(tree: exp.Expr, days: list[str], start: str | None, end: str | None) -> None:
    """`_TABLE_SUFFIX BETWEEN a AND b` → `(_TABLE_SUFFIX BETWEEN a AND b OR _TABLE_SUFFIX IN ('intraday_…'))`.

    The statement's own days start at `@start_date` (and end a conversion window after `@end_date`); the
    attribution's lookback (`prior_params`) reads the `LOOKBACK_DAYS` before `@start_date`, and the history reads
    (earlier transaction ids, first-ever events) every day before it from `EARLIEST_DAY`: each read gets the
    intraday-only days of its own range (all of them when `start` is not given).
    """
    first = parse_day(start) if start else None
    for between in list(tree.find_all(exp.Between)):
        column = between.this
        if not (isinstance(column, exp.Column) and column.name.upper() == "_TABLE_SUFFIX"):
            continue
        if first is None:
            wanted = days
        elif _is_history(between):  # every day before start_date
            wanted = [d for d in days if parse_day(d) < first]
        elif isinstance(between.args.get("low"), exp.Placeholder | exp.Parameter):  # the statement's own days
            last = parse_day(end or start) + dt.timedelta(days=WINDOW_DAYS)  # type: ignore[arg-type]
            wanted = [d for d in days if first <= parse_day(d) <= last]
        else:  # the lookback before start_date
            wanted = [d for d in days if first - dt.timedelta(days=LOOKBACK_DAYS) <= parse_day(d) < first]
        if not wanted:
            continue
        suffixes = exp.Array(expressions=[exp.Literal.string(f"{INTRADAY_PREFIX}{day}") for day in sorted(wanted)])
        listed = exp.In(this=column.copy(), unnest=exp.Unnest(expressions=[suffixes]))
        listed.add_comments([INTRADAY_NOTE])
        between.replace(exp.Paren(this=exp.or_(between.copy(), listed)))


def _is_history(between: exp.Between) -> bool:
    low = between.args.get("low")
    return isinstance(low, exp.Literal) and low.is_string and low.this == EARLIEST_DAY
