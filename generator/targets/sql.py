"""`queries/sql/<dialect>/<kpi>.sql`: every KPI as SQL over GA4's BigQuery export, for DuckDB and BigQuery.

The statements come from `generator.sql` (sqlglot ASTs built from the query plan); this target only names
the files and adds their headers.
"""

from __future__ import annotations

from ..sql import DIALECTS
from ..sql.header import render_sql_file
from .artifact import Artifact
from .context import RenderContext

NAME = "sql"


def render(ctx: RenderContext) -> list[Artifact]:
    plan = ctx.query_plan()
    artifacts = []
    for kid, query in sorted(plan.kpis.items()):
        kpi = ctx.catalog.kpis[kid].kpi
        for dialect in DIALECTS:
            text = render_sql_file(query, plan, dialect, title=kpi.title, owner=kpi.owner, export=ctx.export)
            artifacts.append(Artifact(f"queries/sql/{dialect}/{kid}.sql", text))
    return artifacts
