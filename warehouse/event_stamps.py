"""Spec versions and consent from the events themselves: which `kb_spec` each event carried, per day.

Kept apart from the data-quality checks (quality.py): each refresh regroups the days it checks (new or
changed days, the last 3) into the store's `event_spec_versions` (event_name, date, spec_version, events,
no_consent_events), and the serving copy gets it beside `event_spec` (the current spec version of each
event, and whether it may be sent before consent). An event without consent is a cookieless ping of GA4's consent mode: no `user_pseudo_id`
(ga4.md §11). `kpi status` and the dashboard read both tables (event_versions.py).
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp

from generator.parse.catalog import KpiCatalog
from generator.spec.model import build_spec
from generator.spec.stamp import STAMP_PARAM
from generator.sql.dialects import lower
from generator.sql.export_shape import NEWEST
from generator.sql.params import param_record

from .flat_params import warehouse_shape
from .schema.events import SLIM_TABLE

STAMPS_SQL = """
SELECT event_name, strptime(event_date, '%Y%m%d')::DATE AS date, spec_version, events, no_consent_events
FROM (
    SELECT event_name, event_date, stamp.string_value AS spec_version, count(*)::BIGINT AS events,
        count(*) FILTER (WHERE user_pseudo_id IS NULL)::BIGINT AS no_consent_events
    FROM ga4_events
    WHERE event_date IN (SELECT day FROM stamp_days)
    GROUP BY ALL
)
"""
"""Per event name and day: its events by the stamp they carry (`stamp` stands for the stamp param's `value`
record, `stamps_sql`). Each group's text date is made a DATE once, not each event's (at 5M events 0.24 -> 0.12
CPU s, the same rows)."""


def stamps_sql(store: duckdb.DuckDBPyConnection) -> str:
    """`STAMPS_SQL` over `slim_events`, reading the stamp's flattened column, where the store has one (a refresh
    flattens it first, `flat_params.params_of`: at 5M events 2.0 -> 0.3 CPU s); else over the raw files."""
    shape = warehouse_shape(store)
    statement = sqlglot.parse_one(STAMPS_SQL, read="duckdb")
    counted = next(s for s in statement.find_all(exp.Select) if s.args["from_"].name == "ga4_events")
    if shape.flat_column(STAMP_PARAM) and not shape.event_params:
        counted.set("from_", exp.From(this=exp.to_table(SLIM_TABLE)))
    else:
        shape = NEWEST
    field = next(c for c in statement.find_all(exp.Column) if c.table == "stamp")
    field.replace(exp.Dot(this=lower(param_record(STAMP_PARAM), "duckdb", export=shape), expression=field.this))
    return statement.sql("duckdb")


def refresh_event_stamps(store: duckdb.DuckDBPyConnection, days: list[str]) -> None:
    """Regroup the YYYYMMDD `days` into `event_spec_versions`, in one transaction (every loaded day while the
    table is empty: a store that had its days refreshed before the table existed)."""
    if not store.execute("SELECT count(*) FROM event_spec_versions").fetchall()[0][0]:
        days = [d for (d,) in store.execute("SELECT event_date FROM loaded_days ORDER BY 1").fetchall()]
    if not days:
        return
    store.register("stamp_days", pa.table({"day": pa.array(days, pa.string())}))
    try:
        store.execute("BEGIN TRANSACTION")
        try:
            store.execute("DELETE FROM event_spec_versions WHERE strftime(date, '%Y%m%d') IN "
                          "(SELECT day FROM stamp_days)")
            store.execute(f"INSERT INTO event_spec_versions BY NAME {stamps_sql(store)}")
            store.execute("COMMIT")
        except BaseException:
            store.execute("ROLLBACK")
            raise
    finally:
        store.unregister("stamp_days")


def spec_table(catalog: KpiCatalog) -> pa.Table:
    """The current spec version of every event the site sends, and whether it may precede consent."""
    events = [e for e in build_spec(catalog).events if e.spec_version]
    return pa.table({"event_name": pa.array([e.name for e in events], pa.string()),
                     "spec_version": pa.array([e.spec_version for e in events], pa.string()),
                     "before_consent": pa.array([e.before_consent for e in events], pa.bool_())})


def publish_event_stamps(store: duckdb.DuckDBPyConnection, catalog: KpiCatalog) -> None:
    """Create `serving.event_spec_versions` and `serving.event_spec` (the serving file is attached as `serving`)."""
    store.execute("CREATE TABLE serving.event_spec_versions AS SELECT * FROM event_spec_versions "
                  "ORDER BY event_name, date, spec_version NULLS FIRST")
    store.register("src_event_spec", spec_table(catalog))
    try:
        store.execute("CREATE TABLE serving.event_spec AS SELECT * FROM src_event_spec ORDER BY event_name")
    finally:
        store.unregister("src_event_spec")
