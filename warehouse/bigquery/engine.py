"""Running statements on BigQuery: which days the export has, what a statement costs, and its rows.

Every query first runs as a dry run (free: BigQuery reports the bytes it would process and bills nothing);
every real query carries `maximum_bytes_billed`, so BigQuery refuses, rather than bills, anything larger.
"""

from __future__ import annotations

import datetime as dt
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa

from generator.sql.export_shape import NEWEST, ExportShape, shape_of

from .client import Announce, explain, make_client, with_retries
from .settings import BigQuerySettings

if TYPE_CHECKING:
    from google.cloud import bigquery

_DAILY = re.compile(r"events_(\d{8})")
_INTRADAY = re.compile(r"events_intraday_(\d{8})")


@dataclass(frozen=True)
class ExportDays:
    """The export's days: when each day's table last changed, and the days that only have an intraday table."""

    modified: dict[str, dt.datetime]  # YYYYMMDD → last change of its daily (else intraday) table, UTC
    intraday_only: list[str]
    shape: ExportShape = NEWEST  # the attribution columns of `events_*` (the newest table's, as BigQuery reads it)
    shape_table: str = ""  # the table it was read from


class BigQueryEngine:
    """One client for one run; every call retried when transient, every failure turned into one sentence."""

    def __init__(self, settings: BigQuerySettings, announce: Announce, client: bigquery.Client | None = None,
                 retries: int = 4, first_wait: float = 1.0) -> None:
        self.settings = settings
        self.announce = announce
        self.client = client or make_client(settings)
        self.retries = retries
        self.first_wait = first_wait

    def _call(self, what: str, call):
        try:
            return with_retries(call, what, self.announce, retries=self.retries, first_wait=self.first_wait)
        except Exception as exc:  # noqa: BLE001 - every failure becomes one sentence naming project and dataset
            if type(exc).__name__ == "BigQueryError":
                raise
            raise explain(exc, self.settings) from None

    def export_days(self) -> ExportDays:
        """The daily and intraday tables of the export dataset, with their last modification times, and the
        export's shape: BigQuery reads `events_*` with the schema of the most recently created table matching
        it, so the statements read the attribution columns that table has (a missing one is a typed NULL)."""
        dataset = f"{self.settings.project}.{self.settings.dataset}"
        names = self._call("listing the export's tables", lambda: [t.table_id for t in self.client.list_tables(dataset)])
        daily = {m[1]: name for name in names if (m := _DAILY.fullmatch(name))}
        intraday = {m[1]: name for name in names if (m := _INTRADAY.fullmatch(name))}
        # a day with a daily table is read from it; its intraday table (if still there) is never read
        wanted = {**{d: n for d, n in intraday.items() if d not in daily}, **daily}
        stale = [n for d, n in intraday.items() if d in daily]
        with ThreadPoolExecutor(max_workers=8) as pool:
            tables = list(pool.map(self._table, [f"{dataset}.{n}" for n in [*wanted.values(), *stale]]))
        modified = {d: _changed(t) for d, t in zip(wanted, tables, strict=False)}
        newest = max(tables, key=lambda t: (t.created or dt.datetime.min.replace(tzinfo=dt.UTC), t.table_id),
                     default=None)
        shape = NEWEST if newest is None else shape_of({f.name: {s.name for s in f.fields} for f in newest.schema})
        return ExportDays(modified, sorted(d for d in intraday if d not in daily), shape,
                          newest.table_id if newest is not None else "")

    def _table(self, table_id: str) -> bigquery.Table:
        return self._call("reading a table's metadata", lambda: self.client.get_table(table_id))

    def dry_run(self, sql: str, start: str, end: str) -> int:
        """The bytes BigQuery would process for the statement over `start` … `end` (nothing billed)."""
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(dry_run=True, use_query_cache=False, query_parameters=_params(start, end))
        job = self._call("dry run", lambda: self.client.query(sql, job_config=config, retry=_NO_RETRY,
                                                              job_retry=None))
        return int(job.total_bytes_processed or 0)

    def rows(self, sql: str, start: str, end: str) -> pa.Table:
        """The statement's result rows for `start` … `end`, never billing more than `max_bytes_billed`."""
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(query_parameters=_params(start, end),
                                         maximum_bytes_billed=self.settings.max_bytes_billed)

        def run() -> pa.Table:
            job = self.client.query(sql, job_config=config, retry=_NO_RETRY, job_retry=None)
            return job.result(retry=_NO_RETRY, job_retry=None).to_arrow(create_bqstorage_client=False)

        return self._call("query", run)


def _changed(table: bigquery.Table) -> dt.datetime:
    changed = table.modified or table.created or dt.datetime.now(dt.UTC)
    return changed.astimezone(dt.UTC).replace(tzinfo=None)


def _params(start: str, end: str) -> list[bigquery.ScalarQueryParameter]:
    from google.cloud import bigquery

    return [bigquery.ScalarQueryParameter("start_date", "STRING", start),
            bigquery.ScalarQueryParameter("end_date", "STRING", end)]


def _never(_exc: BaseException) -> bool:
    return False


def _no_retry():
    from google.api_core.retry import Retry

    return Retry(predicate=_never)  # our own loop retries, and says so


_NO_RETRY = _no_retry()
