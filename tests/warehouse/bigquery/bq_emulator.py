"""A running bqemulator for tests, and GA4 export tables loaded into it with the official client."""

from __future__ import annotations

import io
import os
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pyarrow as pa
import pyarrow.parquet as pq
from bqemulator_venv import emulator_home, ensure_venv

PROJECT = "kb-test"
_READY = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")


@contextmanager
def running_emulator(timeout: float = 90.0) -> Iterator[str]:
    """Start the emulator on free ports of 127.0.0.1; yield its URL (for BIGQUERY_EMULATOR_HOST); stop it."""
    binary = ensure_venv()
    env = {**os.environ, "HOME": str(emulator_home())}
    proc = subprocess.Popen([str(binary), "start", "--rest-host", "127.0.0.1", "--rest-port", "0",
                             "--grpc-host", "127.0.0.1", "--grpc-port", "0", "--project", PROJECT,
                             "--log-format", "console"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines: list[str] = []
    found = threading.Event()
    port: list[str] = []

    def drain() -> None:  # keep reading, so the emulator never blocks on a full pipe
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if not found.is_set() and (m := _READY.search(line)):
                port.append(m[1])
                found.set()

    threading.Thread(target=drain, daemon=True).start()
    try:
        deadline = time.monotonic() + timeout
        while not found.wait(0.2):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the BigQuery emulator did not start:\n" + "".join(lines[-30:]))
        yield f"http://127.0.0.1:{port[0]}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def bq_schema(schema: pa.Schema) -> list[object]:
    """The export's BigQuery schema (REPEATED RECORDs for lists of structs) from the store's Arrow schema."""
    from google.cloud import bigquery

    scalars = {pa.string(): "STRING", pa.int64(): "INTEGER", pa.float64(): "FLOAT", pa.bool_(): "BOOLEAN"}

    def field(name: str, kind: pa.DataType) -> bigquery.SchemaField:
        if pa.types.is_list(kind):
            inner = field(name, kind.value_type)
            return bigquery.SchemaField(name, inner.field_type, mode="REPEATED", fields=inner.fields)
        if pa.types.is_struct(kind):
            return bigquery.SchemaField(name, "RECORD", fields=[field(f.name, f.type) for f in kind])
        return bigquery.SchemaField(name, scalars[kind])

    return [field(f.name, f.type) for f in schema]


def load_table(client: object, table_id: str, table: pa.Table) -> None:
    """Create `table_id` with the export schema and load `table` into it (the emulator needs the table first)."""
    from google.cloud import bigquery

    client.create_table(bigquery.Table(table_id, schema=bq_schema(table.schema)), exists_ok=True)  # type: ignore[attr-defined]
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    buffer.seek(0)
    config = bigquery.LoadJobConfig(source_format="PARQUET", write_disposition="WRITE_TRUNCATE")
    client.load_table_from_file(buffer, table_id, job_config=config).result()  # type: ignore[attr-defined]
