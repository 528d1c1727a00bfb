"""Days already in memory (one Arrow table in the `ga4_events` shape per day) as a load source."""

from __future__ import annotations

from collections.abc import Mapping

import duckdb
import pyarrow as pa

from ..store import insert_events


class ArrowDaysSource:
    """`{YYYYMMDD: events}` loaded a day at a time, through the same path as the demo and export files."""

    source = "demo"

    def __init__(self, tables: Mapping[str, pa.Table], detail: str = "in-memory days") -> None:
        self.tables = dict(tables)
        self.detail = detail

    def plan(self, con: duckdb.DuckDBPyConnection) -> list[list[str]]:
        return [[day] for day in self.tables]

    def insert(self, con: duckdb.DuckDBPyConnection, days: list[str]) -> None:
        for day in days:
            insert_events(con, self.tables[day])
