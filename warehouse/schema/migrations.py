"""Store migrations: an ordered list of (version, DDL statements or functions), each applied once in its own
transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import duckdb

from ..day_tables import LOADED_DAY_TABLES_DDL
from ..first_seen import FIRST_SEEN_DDL
from .event_stamps import EVENT_STAMPS_DDL
from .events import create_table_sql
from .ga4_api_tables import GA4_API_TABLES_DDL
from .kept_reads import (
    FACT_DAYS_DDL,
    FLAT_PARAMS_DDL,
    OBSERVED_VALUES_DDL,
    SQL_TEXTS_DDL,
    USER_ID_COUNTS_DDL,
    USER_IDS_DDL,
)
from .kpi_tables import KPI_TABLES_DDL, PERIOD_VALUES_DDL
from .quality_tables import QUALITY_DAYS_DDL, QUALITY_TABLES_DDL

Migration = tuple[int, Sequence["str | Callable[[duckdb.DuckDBPyConnection], None]"]]

def _to_raw_files(con: duckdb.DuckDBPyConnection) -> None:
    from ..slim_events import (
        migrate,  # imports the generator (sqlglot): only when a store is made or migrated
    )

    migrate(con)


MIGRATIONS: tuple[Migration, ...] = (
    (
        1,
        (
            create_table_sql("ga4_events"),
            # Generated KPI SQL reads `events`, the same name a user gives a view over raw export files.
            "CREATE VIEW events AS SELECT * FROM ga4_events",
            """CREATE TABLE load_audit (
              load_id BIGINT PRIMARY KEY,
              source VARCHAR NOT NULL,
              start_date DATE,
              end_date DATE,
              rows BIGINT,
              checksum VARCHAR,
              started_at TIMESTAMP,
              finished_at TIMESTAMP,
              outcome VARCHAR,
              message VARCHAR
            )""",
            """CREATE TABLE loaded_days (
              event_date VARCHAR PRIMARY KEY,
              rows BIGINT NOT NULL,
              checksum VARCHAR NOT NULL,
              load_id BIGINT NOT NULL,
              loaded_at TIMESTAMP NOT NULL
            )""",
            """CREATE TABLE ga4_report_rows (
              request_id VARCHAR NOT NULL,
              kpi_ids VARCHAR[],
              date DATE,
              dimensions MAP(VARCHAR, VARCHAR),
              metrics MAP(VARCHAR, DOUBLE),
              property VARCHAR,
              load_id BIGINT,
              loaded_at TIMESTAMP
            )""",
        ),
    ),
    (2, GA4_API_TABLES_DDL),  # Data API: report caveats, property quota, caveats of ga4_api KPI values
    (3, KPI_TABLES_DDL),  # computed KPI values, refresh state, definition changes, data quality
    (
        4,
        (
            # GA4's session attribution and consent columns (issue 10): rebuilt, not ALTERed, so the table's
            # columns stay in `COLUMNS` order (Arrow loads insert by position).
            create_table_sql("ga4_events_v4"),
            "INSERT INTO ga4_events_v4 BY NAME SELECT * FROM ga4_events",
            "DROP VIEW events",
            "DROP TABLE ga4_events",
            "ALTER TABLE ga4_events_v4 RENAME TO ga4_events",
            "CREATE VIEW events AS SELECT * FROM ga4_events",
        ),
    ),
    (5, EVENT_STAMPS_DDL),  # events per day by spec version (kb_spec) and without consent (event_stamps.py)
    # the last definition of every KPI ever served, so retired KPIs stay reachable (warehouse/history.py)
    (6, ("""CREATE TABLE IF NOT EXISTS kpi_definition_snapshots (
              kpi_id VARCHAR PRIMARY KEY,
              definition VARCHAR NOT NULL,
              saved_at TIMESTAMP NOT NULL
            )""",)),
    (7, (PERIOD_VALUES_DDL,)),  # exact values over periods of the KPIs counting distinct users or sessions
    (8, (LOADED_DAY_TABLES_DDL,)),  # daily or intraday (provisional) table of each loaded day (day_tables.py)
    (9, QUALITY_TABLES_DDL),  # GA4's own checks per event and day; attribution method per day (issue 10 §9, §1)
    # which engine computed each value: `duckdb` (this warehouse) or `bigquery` (`kpi refresh --engine bigquery`)
    (10, ("ALTER TABLE kpi_values ADD COLUMN IF NOT EXISTS engine VARCHAR DEFAULT 'duckdb'",
          "ALTER TABLE kpi_period_values ADD COLUMN IF NOT EXISTS engine VARCHAR DEFAULT 'duckdb'")),
    (11, (FIRST_SEEN_DDL,)),  # each transaction id's first day, as the last refresh saw it (warehouse/first_seen.py)
    (12, (QUALITY_DAYS_DDL,)),  # the days whose data quality was checked, with what (warehouse/quality_days.py)
    (13, (FLAT_PARAMS_DDL,)),  # the event params flattened into plain columns of ga4_events (warehouse/flat_params.py)
    (14, OBSERVED_VALUES_DDL),  # each loaded day's values of what the KPI files filter by (observed_values.py)
    (15, (SQL_TEXTS_DDL,)),  # the refresh's SQL texts, kept between refreshes (warehouse/sql_texts.py)
    (16, USER_IDS_DDL),  # every stored user id with its hash (warehouse/statements.py: do the users hash apart)
    # each event numbered (`event_row`, its row id): a session's click found as a row (ExportShape.event_rows)
    (17, ("CREATE OR REPLACE VIEW events AS SELECT *, rowid AS event_row FROM ga4_events",)),
    (18, (FACT_DAYS_DDL,)),  # the days whose session days a refresh kept (warehouse/session_facts.py)
    # the raw export kept as its files, `ga4_events` a view over them; `events` over `slim_events` (raw_files.py)
    (19, (_to_raw_files,)),
    # the event-scoped records and columns a column each where the KPI files read them (`kf_<n>`, flat_params.py):
    # the next refresh extracts those from the raw files
    (20, tuple(f"ALTER TABLE slim_events DROP COLUMN IF EXISTS {column}" for column in ("device", "geo", "platform"))
     + ("CREATE OR REPLACE VIEW events AS SELECT *, rowid AS event_row FROM slim_events",)),
    # the clicks kept as their four fields only (`kc_<n>`, `ExportShape.click_inputs`): the next refresh makes
    # those the KPI files read from the raw files
    (21, ("ALTER TABLE slim_events DROP COLUMN IF EXISTS collected_traffic_source",
          "CREATE OR REPLACE VIEW events AS SELECT *, rowid AS event_row FROM slim_events")),
    (22, USER_ID_COUNTS_DDL),  # user_ids' rows and distinct hashes, counted on by each load (statements.py)
)

LATEST_VERSION = MIGRATIONS[-1][0]


class SchemaTooNewError(RuntimeError):
    """The store was written by a newer KPI Bridge than this one."""


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    """The store's schema version (0 for a new, empty file)."""
    # fetchall, not fetchone: DuckDB 2 refuses further work while a result is only partly read.
    found = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    ).fetchall()
    if not found[0][0]:
        return 0
    return int(con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchall()[0][0])


def apply_migrations(con: duckdb.DuckDBPyConnection, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring the store up to the latest schema; return the version it is at."""
    con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP)")
    version = current_version(con)
    if version > migrations[-1][0]:
        raise SchemaTooNewError(
            f"This warehouse has schema version {version}, newer than this KPI Bridge knows "
            f"({migrations[-1][0]}): upgrade KPI Bridge (pip install -U kpibridge) or use another --db."
        )
    for number, statements in migrations:
        if number <= version:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            for statement in statements:
                if callable(statement):
                    statement(con)
                else:
                    con.execute(statement)
            con.execute(
                "INSERT INTO schema_version VALUES ($v, $at)",
                {"v": number, "at": datetime.now(UTC).replace(tzinfo=None)},
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        version = number
    return version
