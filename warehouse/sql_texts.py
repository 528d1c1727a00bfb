"""The refresh's SQL texts, kept between refreshes: building one costs 0.2–0.4 CPU s, often more than running it.

A text is a pure function of the code, sqlglot's version, the KPIs' plan and the statement's arguments (KPIs,
bucket, periods, the warehouse's flattened params), so it is kept under a SHA-256 of exactly those: the plan by
its `repr` (dataclasses and pydantic models all the way down: every field, in a fixed order, the same in every
process), the code by `code_version.code_fingerprint` (every file of `generator/`, which builds the statements,
of `warehouse/`, which builds some texts too, data quality's and the params to flatten, and the installed
packages' versions, sqlglot's among them). A change to any of them is another key, so a kept text is never
stale; texts not used for 30 days are dropped. On a read-only store (`kpi validate --db`) texts are not kept in
it. A text a store lacks is taken from the texts every store on this machine shares (`text_cache.py`) before
it is built.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from functools import cache

import duckdb

from generator.plan.queries import QueryPlan
from generator.sql.export_shape import ExportShape

from .clock import utc_now
from .code_version import code_fingerprint
from .text_cache import shared_text

KEEP = dt.timedelta(days=30)


@cache
def _plan_digest(plan_repr: str) -> str:
    return hashlib.sha256(plan_repr.encode()).hexdigest()


def text_key(kind: str, plan: QueryPlan | None, shape: ExportShape | None, *args: object) -> str:
    """The key of a text: what it is (`kind`), the plan, the shape it reads and the statement's arguments."""
    parts = [code_fingerprint(), kind, None if plan is None else _plan_digest(repr(plan)),
             None if shape is None else repr(shape), *(_plain(a) for a in args)]
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


def kept_text(con: duckdb.DuckDBPyConnection, key: str, build: Callable[[], str]) -> str:
    """The text kept under `key`, or the one every store shares (`text_cache.py`), or `build()`, kept there now."""
    try:
        found = con.execute("SELECT sql FROM sql_texts WHERE key = $k", {"k": key}).fetchall()
    except duckdb.CatalogException:  # a store not migrated yet, read read-only (`kpi validate --db`)
        return shared_text(key, build, KEEP.total_seconds())
    if found:
        _quietly(con, "UPDATE sql_texts SET used_at = $now WHERE key = $k", {"k": key, "now": utc_now()})
        return str(found[0][0])
    text = shared_text(key, build, KEEP.total_seconds())
    now = utc_now()
    _quietly(con, "INSERT OR REPLACE INTO sql_texts VALUES ($k, $sql, $now)", {"k": key, "sql": text, "now": now})
    _quietly(con, "DELETE FROM sql_texts WHERE used_at < $old", {"old": now - KEEP})
    return text


def _plain(value: object) -> object:
    if isinstance(value, (list, tuple, set, frozenset)) and not isinstance(value, str):
        items = [_plain(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    return value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)


def _quietly(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object]) -> None:
    try:  # a read-only store (kpi validate --db) builds texts without keeping them
        con.execute(sql, params)
    except duckdb.Error:
        pass
