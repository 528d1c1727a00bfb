"""One bad KPI never stops the others: run a batch, and when it fails, find the KPIs that fail on their own.

`kpi refresh` computes a group of KPIs as one batch statement. When that statement fails (a database
error, or the SQL cannot even be written), each KPI of the group is run alone: the ones that succeed are
kept, the ones that fail are reported with their file, line and the database's message, and keep their
previous values (their days are not replaced, their refresh state is not advanced, so the next refresh
tries them again).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from generator.parse.catalog import KpiCatalog
from generator.plan.queries import QueryPlan
from generator.sql.batch import MethodsUnsupported

from .refresh_days import parse_day
from .statements import plan_sql


@dataclass(frozen=True)
class KpiFailure:
    """A KPI whose statement failed: where it is written and what the database said."""

    kpi_id: str
    file: str
    line: int
    message: str

    def sentence(self) -> str:
        return (f"The KPI `{self.kpi_id}` ({self.file}:{self.line}) could not be computed, so it keeps its previous "
                f"values: {self.message}")


def first_line(exc: BaseException) -> str:
    """The error's first line, as one sentence (DuckDB's messages run over several lines)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    text = lines[0] if lines else type(exc).__name__
    return text if text.endswith(".") else text + "."


def retry_sentence(kpi_ids: Sequence[str], start: str, end: str, exc: BaseException) -> str:
    """What a refresh says of a statement over the kept session days that failed and was run again from the events."""
    days = f"{parse_day(start).isoformat()} to {parse_day(end).isoformat()}"
    return (f"The statement reading the kept session days for {len(kpi_ids)} KPIs over {days} failed, so they were "
            f"computed from the events instead (the same numbers, more slowly): {first_line(exc)} Please report "
            "this with `kpi --version`.")


def failure(catalog: KpiCatalog, kpi_id: str, exc: BaseException) -> KpiFailure:
    sk = catalog.kpis.get(kpi_id)
    if sk is None:
        return KpiFailure(kpi_id, "(unknown file)", 1, first_line(exc))
    where = sk.locate("measure")
    return KpiFailure(kpi_id, where.file, where.line, first_line(exc))


def compute_isolated(con: duckdb.DuckDBPyConnection, catalog: KpiCatalog, plan: QueryPlan, kpi_ids: list[str],
                     start: str, end: str, methods: Sequence[str] | None = None, methods_limit: int = 0,
                     facts: bool = False, retried: list[str] | None = None,
                     ) -> tuple[list[pa.Table], list[KpiFailure], pa.Table | None]:
    """The rows of `kpi_ids` over start..end; a failing batch is retried KPI by KPI to isolate the culprits.

    `methods`: the batch also counts the attribution methods of its days, with the values a day of these session
    dimensions (`batch.METHOD_ROWS`), returned third; None when it could not (no session table of its days, or a
    failing batch: `attribution_methods.refresh_attribution` counts them on its own then). `facts`: the batch
    reads the kept session days (`session_facts.py`); a failing one is retried from the events, and a sentence
    saying so goes into `retried` (the same numbers, more slowly: a fast path that fails is never silent)."""
    params = {"start_date": start, "end_date": end}
    try:
        sql, fused = _statement(con, plan, kpi_ids, methods, methods_limit, facts)
        table = con.sql(sql, params=params).to_arrow_table()
        if not fused:
            return [table], [], None
        ids = table.column("kpi_id").to_pylist()
        return [rows_where(table, [k is not None for k in ids])], [], rows_where(table, [k is None for k in ids])
    except (duckdb.Error, ValueError, ArithmeticError, RecursionError) as exc:
        if methods is not None or facts:  # from the events, without the methods (counted on their own then)
            if facts and retried is not None:
                retried.append(retry_sentence(kpi_ids, start, end, exc))
            return compute_isolated(con, catalog, plan, kpi_ids, start, end)
        if len(kpi_ids) == 1:
            return [], [failure(catalog, kpi_ids[0], exc)], None
    tables: list[pa.Table] = []
    failures: list[KpiFailure] = []
    for kpi_id in kpi_ids:
        try:
            tables.append(con.sql(plan_sql(con, plan, [kpi_id]), params=params).to_arrow_table())
        except (duckdb.Error, ValueError, ArithmeticError, RecursionError) as exc:
            failures.append(failure(catalog, kpi_id, exc))
    return tables, failures, None


def _statement(con: duckdb.DuckDBPyConnection, plan: QueryPlan, kpi_ids: list[str], methods: Sequence[str] | None,
               limit: int, facts: bool = False) -> tuple[str, bool]:
    """(the batch statement, whether it counts the attribution methods too)."""
    if methods is not None:
        try:
            return plan_sql(con, plan, kpi_ids, methods=methods, methods_limit=limit, facts=facts), True
        except MethodsUnsupported:
            pass
    return plan_sql(con, plan, kpi_ids, facts=facts), False


def unique_failures(failures: list[KpiFailure]) -> list[KpiFailure]:
    """Each KPI once (a KPI fails in every day range it is run for)."""
    return list({f.kpi_id: f for f in reversed(failures)}.values())[::-1]


def without_kpis(table: pa.Table, kpi_ids: set[str]) -> pa.Table:
    """The rows of other KPIs: a KPI that failed in one day range keeps all its previous values, so its rows
    from the ranges that succeeded are dropped too."""
    return rows_where(table, [k not in kpi_ids for k in table.column("kpi_id").to_pylist()])


def rows_where(table: pa.Table, keep: list[bool]) -> pa.Table:
    """The rows of `table` whose `keep` is True, in order, of the same types. Not `Table.filter`: it imports
    pyarrow.compute (45 ms of a new day's refresh), and these tables hold a statement's rows (thousands)."""
    return pa.Table.from_pylist([row for row, k in zip(table.to_pylist(), keep, strict=True) if k], schema=table.schema)
