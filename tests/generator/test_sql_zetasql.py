"""Every generated BigQuery statement is valid GoogleSQL: ZetaSQL (BigQuery's analyzer) resolves it against the
real export schema (`ga4_export_schema.py`), with `@start_date` / `@end_date` declared as STRING parameters.

Checked: each KPI's own statement (`build/queries/sql/bigquery/<kpi>.sql`) and the batch statement
`kpi refresh --engine bigquery` runs (every KPI in one), so an invalid construct fails CI.
One rewrite is made before analysis: `MIN_BY(x, y)`, which BigQuery has (documented as a synonym of
`ANY_VALUE(x HAVING MIN y)`) and open-source ZetaSQL lacks, becomes that synonym.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot
from ga4_export_schema import EVENTS
from sqlglot import exp

from generator.plan.queries import QueryPlan, compile_plan
from generator.rules.validate import validate_paths
from generator.sql import BIGQUERY_TABLE_PLACEHOLDER, BUCKETS, Bucket, render_plan_sql, render_sql
from generator.sql.export_shape import ERAS
from warehouse.bigquery.statement import batch_statement

zetasql = pytest.importorskip("zetasql")

from zetasql.api import Analyzer, CatalogBuilder, TableBuilder  # noqa: E402
from zetasql.api.type_factory import TypeFactory  # noqa: E402
from zetasql.types import AnalyzerOptions, LanguageOptions, TypeKind, ZetaSQLBuiltinFunctionOptions  # noqa: E402

_SCALARS = {"STRING": TypeKind.TYPE_STRING, "INT64": TypeKind.TYPE_INT64, "FLOAT64": TypeKind.TYPE_DOUBLE,
            "BOOL": TypeKind.TYPE_BOOL}


def _type(kind: object, repeated: bool) -> object:
    if isinstance(kind, str):
        t = TypeFactory.create_simple_type(_SCALARS[kind])
    else:
        t = TypeFactory.create_struct_type([(n, _type(k, r)) for n, k, r in kind])
    return TypeFactory.create_array_type(t) if repeated else t


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    language = LanguageOptions.maximum_features()
    table = TableBuilder(BIGQUERY_TABLE_PLACEHOLDER)
    for name, kind, repeated in EVENTS:
        table.add_column(name, _type(kind, repeated))
    catalog = (CatalogBuilder("bigquery").add_table(table.build())
               .with_builtin_functions(ZetaSQLBuiltinFunctionOptions(language_options=language)).build())
    string = TypeFactory.create_simple_type(TypeKind.TYPE_STRING)
    options = AnalyzerOptions(language_options=language, query_parameters=[
        AnalyzerOptions.QueryParameter(name=n, type=string) for n in ("start_date", "end_date")])
    return Analyzer(options, catalog)


@pytest.fixture(scope="module")
def plan(example_kpis_dir: Path) -> QueryPlan:
    validated = validate_paths([example_kpis_dir])
    assert not validated.report.errors
    return compile_plan(validated.catalog)


def _for_zetasql(sql: str) -> str:
    tree = sqlglot.parse_one(sql, read="bigquery")
    for node in list(tree.find_all(exp.ArgMin)):
        node.replace(_any_value_having_min(node.this.copy(), node.expression.copy()))
    return tree.sql(dialect="bigquery")


def _any_value_having_min(value: exp.Expr, order: exp.Expr) -> exp.Expr:
    template = sqlglot.parse_one("ANY_VALUE(x HAVING MIN y)", read="bigquery")
    return template.transform(lambda n: value if n == exp.column("x") else order if n == exp.column("y") else n)


def _analyse(analyzer: Analyzer, sql: str) -> None:
    try:
        analyzer.analyze_statement(_for_zetasql(sql))
    except Exception as exc:  # noqa: BLE001 - the analyzer's message says what is invalid, and where
        pytest.fail(f"not valid GoogleSQL: {exc}\n{sql}")


@pytest.mark.parametrize("era", list(ERAS))
def test_every_kpi_statement_is_valid_googlesql(analyzer: Analyzer, plan: QueryPlan, era: str) -> None:
    """Each `kpi generate --export-era` file (the statement under its header)."""
    for q in plan.ordered():
        _analyse(analyzer, render_sql(q, plan, "bigquery", export=ERAS[era]))


@pytest.mark.parametrize("bucket", BUCKETS)
def test_the_batch_statement_is_valid_googlesql(analyzer: Analyzer, plan: QueryPlan, bucket: Bucket) -> None:
    """Daily values and the exact values over periods, weeks, months (`kpi_period_values`)."""
    _analyse(analyzer, render_plan_sql(plan, "bigquery", bucket=bucket))


@pytest.mark.parametrize("era", list(ERAS))
def test_the_statements_kpi_refresh_runs_on_bigquery_are_valid_googlesql(analyzer: Analyzer, plan: QueryPlan,
                                                                         era: str) -> None:
    """What `kpi refresh --engine bigquery` sends: the export table named, intraday-only days added to the
    statement's own range, to the attribution's lookback before it and to the reads of all earlier days."""
    ids = list(plan.kpis)
    for bucket in ("day", "period", "week"):
        sql = batch_statement(plan, ids, BIGQUERY_TABLE_PLACEHOLDER, ["20240110", "20240131"], "20240111",
                              "20240131", bucket=bucket, export=ERAS[era])
        history_reads = sql.count("BETWEEN '00000000'")  # earlier transaction ids, first-ever events
        # 20240110, before the range: the lookback and each history read; 20240131: the range's own read
        assert sql.count("intraday_20240110") == 1 + history_reads and sql.count("intraday_20240131") == 1
        _analyse(analyzer, sql)


def test_an_invalid_statement_fails(analyzer: Analyzer) -> None:
    with pytest.raises(Exception, match="Field name channel does not exist"):
        analyzer.analyze_statement(f"SELECT session_traffic_source_last_click.cross_channel_campaign.channel "
                                   f"FROM `{BIGQUERY_TABLE_PLACEHOLDER}`")
    analyzer.analyze_statement("SELECT session_traffic_source_last_click.cross_channel_campaign.default_channel_group"
                               f" FROM `{BIGQUERY_TABLE_PLACEHOLDER}` WHERE _TABLE_SUFFIX BETWEEN @start_date AND @end_date")
