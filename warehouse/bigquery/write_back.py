"""`--write-table DATASET.kpi_values`: the stored KPI values MERGEd into a BigQuery table for BI tools.

The rows are loaded into a short-lived staging table, then one MERGE makes the target equal to the store
(insert new rows, update changed ones, delete rows the store no longer has), so running it twice changes
nothing. The staging table expires after an hour even if the run is killed in between.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from sqlglot import exp, parse_one

from .engine import BigQueryEngine

COLUMNS = ("kpi_id", "date", "breakdown", "breakdown_value", "value", "numerator", "denominator",
           "definition_hash", "source", "engine", "computed_at")
KEYS = ("kpi_id", "date", "breakdown", "breakdown_value", "source")
_TYPES = {"date": "DATE", "value": "FLOAT", "numerator": "FLOAT", "denominator": "FLOAT", "computed_at": "TIMESTAMP"}

# Our own constant statement; the two table names are put in as identifier nodes, never as text.
_MERGE = """
MERGE `target` AS t
USING `staging` AS s
ON t.kpi_id = s.kpi_id AND t.date = s.date AND t.breakdown = s.breakdown
   AND t.breakdown_value = s.breakdown_value AND t.source = s.source
WHEN MATCHED AND (t.value IS DISTINCT FROM s.value OR t.numerator IS DISTINCT FROM s.numerator
     OR t.denominator IS DISTINCT FROM s.denominator OR t.definition_hash IS DISTINCT FROM s.definition_hash
     OR t.engine IS DISTINCT FROM s.engine OR t.computed_at IS DISTINCT FROM s.computed_at) THEN
  UPDATE SET value = s.value, numerator = s.numerator, denominator = s.denominator,
             definition_hash = s.definition_hash, engine = s.engine, computed_at = s.computed_at
WHEN NOT MATCHED THEN
  INSERT (kpi_id, date, breakdown, breakdown_value, value, numerator, denominator, definition_hash, source, engine,
          computed_at)
  VALUES (s.kpi_id, s.date, s.breakdown, s.breakdown_value, s.value, s.numerator, s.denominator, s.definition_hash,
          s.source, s.engine, s.computed_at)
WHEN NOT MATCHED BY SOURCE THEN DELETE
"""


def stored_values(con: duckdb.DuckDBPyConnection) -> pa.Table:
    cols = ", ".join(COLUMNS)
    return con.sql(f"SELECT {cols} FROM kpi_values ORDER BY kpi_id, date, breakdown, breakdown_value, "
                       "source").to_arrow_table()


def write_table(engine: BigQueryEngine, values: pa.Table, project: str, dataset: str, table: str) -> int:
    """MERGE `values` into `project.dataset.table` (created when missing); return the rows it holds."""
    from google.cloud import bigquery

    client = engine.client
    schema = [bigquery.SchemaField(c, _TYPES.get(c, "STRING"), mode="REQUIRED" if c in KEYS else "NULLABLE")
              for c in COLUMNS]
    target = f"{project}.{dataset}.{table}"
    staging = f"{project}.{dataset}._kpibridge_staging_{uuid.uuid4().hex[:12]}"
    engine._call("creating the KPI table", lambda: client.create_table(bigquery.Table(target, schema=schema),
                                                                       exists_ok=True))
    scratch = bigquery.Table(staging, schema=schema)
    scratch.expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    engine._call("creating a staging table", lambda: client.create_table(scratch))
    try:
        buffer = io.BytesIO()
        pq.write_table(values, buffer)
        config = bigquery.LoadJobConfig(source_format="PARQUET", write_disposition="WRITE_TRUNCATE")

        def load() -> None:
            buffer.seek(0)
            client.load_table_from_file(buffer, staging, job_config=config).result()

        engine._call("loading the KPI values", load)
        merge = _merge_sql(target, staging)
        engine._call("MERGE", lambda: client.query(merge, job_config=bigquery.QueryJobConfig(
            maximum_bytes_billed=engine.settings.max_bytes_billed)).result())
    finally:
        engine._call("dropping the staging table", lambda: client.delete_table(staging, not_found_ok=True))
    return values.num_rows


def _merge_sql(target: str, staging: str) -> str:
    tree = parse_one(_MERGE, read="bigquery")
    for node in tree.find_all(exp.Table):
        name = {"target": target, "staging": staging}[node.name]
        node.set("this", exp.to_identifier(name, quoted=True))
    return tree.sql(dialect="bigquery")
