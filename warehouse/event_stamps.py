"""Spec versions and consent from the events themselves: which `kb_spec` each event carried, per day.

Kept apart from the data-quality checks (quality.py): one grouping over the store's events, written to the
serving copy by each refresh as `event_spec_versions` (event_name, date, spec_version, events,
no_consent_events), beside `event_spec` (the current spec version of each event, and whether it may be sent
before consent). An event without consent is a cookieless ping of GA4's consent mode: no `user_pseudo_id`
(ga4.md §11). `kpi status` and the dashboard read both tables (event_versions.py).
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from generator.catalog import KpiCatalog
from generator.spec_model import build_spec
from generator.spec_stamp import STAMP_PARAM

STAMPS_SQL = """
SELECT event_name, strptime(event_date, '%Y%m%d')::DATE AS date,
    list_filter(event_params, lambda p: p.key = $stamp)[1].value.string_value AS spec_version,
    count(*)::BIGINT AS events,
    count(*) FILTER (WHERE user_pseudo_id IS NULL)::BIGINT AS no_consent_events
FROM ga4_events
GROUP BY ALL
ORDER BY event_name, date, spec_version NULLS FIRST
"""


def spec_table(catalog: KpiCatalog) -> pa.Table:
    """The current spec version of every event the site sends, and whether it may precede consent."""
    events = [e for e in build_spec(catalog).events if e.spec_version]
    return pa.table({"event_name": pa.array([e.name for e in events], pa.string()),
                     "spec_version": pa.array([e.spec_version for e in events], pa.string()),
                     "before_consent": pa.array([e.before_consent for e in events], pa.bool_())})


def publish_event_stamps(store: duckdb.DuckDBPyConnection, catalog: KpiCatalog) -> None:
    """Create `serving.event_spec_versions` and `serving.event_spec` (the serving file is attached as `serving`)."""
    store.execute(f"CREATE TABLE serving.event_spec_versions AS {STAMPS_SQL}", {"stamp": STAMP_PARAM})
    store.register("src_event_spec", spec_table(catalog))
    try:
        store.execute("CREATE TABLE serving.event_spec AS SELECT * FROM src_event_spec ORDER BY event_name")
    finally:
        store.unregister("src_event_spec")
