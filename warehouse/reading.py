"""Read the serving copy with short-lived read-only connections (never blocking a refresh)."""

from __future__ import annotations

import random
import time
from pathlib import Path

import duckdb


def read_serving(path: Path, sql: str, params: dict[str, object] | None = None,
                 timeout: float = 10.0) -> tuple[list[tuple[object, ...]], list[str]]:
    """Rows and column names; retries while another process briefly holds the file's lock."""
    if not path.exists():
        raise FileNotFoundError(path)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with duckdb.connect(str(path), read_only=True) as con:
                cur = con.execute(sql, params or {})
                columns = [d[0] for d in cur.description]
                return cur.fetchall(), columns
        except duckdb.IOException as exc:
            if "Could not set lock" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05 + random.random() * 0.1)
