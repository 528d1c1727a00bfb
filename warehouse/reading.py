"""Read the serving copy with short-lived read-only connections (never blocking a refresh)."""

from __future__ import annotations

from pathlib import Path
from typing import SupportsInt

from .serving_contract import LOCK_TIMEOUT_SECONDS, read_only


def read_serving(path: Path, sql: str, params: dict[str, object] | None = None,
                 timeout: float = LOCK_TIMEOUT_SECONDS) -> tuple[list[tuple[object, ...]], list[str]]:
    """Rows and column names; retries while another process briefly holds the file's lock."""
    if not path.exists():
        raise FileNotFoundError(path)

    def work(con) -> tuple[list[tuple[object, ...]], list[str]]:
        cur = con.execute(sql, params or {})
        return cur.fetchall(), [d[0] for d in cur.description]

    return read_only(path, work, timeout)


def as_int(value: object) -> int:
    """A numeric column's value as an int: rows are typed `object` (their types are the SQL's), so say which."""
    if not isinstance(value, SupportsInt):
        raise TypeError(f"expected a number from the serving copy, got {value!r}")
    return int(value)
