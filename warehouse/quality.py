"""Data quality from the data itself: per event and day, volume and how many events break the spec.

The spec (every event's params: required, type, enum, pattern, bounds) is handed to DuckDB as a
table, so one fixed SQL statement checks any spec: no SQL is assembled from marketer text.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa

from generator.catalog import KpiCatalog

EMAIL_RE = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
PHONE_RE = r"(\+|00)[0-9][0-9 ()/-]{7,}[0-9]"

SPEC_SCHEMA = pa.schema([
    ("event_name", pa.string()), ("param", pa.string()), ("required", pa.bool_()), ("type", pa.string()),
    ("enum", pa.list_(pa.string())), ("pattern", pa.string()), ("min", pa.float64()), ("max", pa.float64()),
])


@dataclass(frozen=True)
class SpecTables:
    events: pa.Table  # event_name
    params: pa.Table  # SPEC_SCHEMA


def spec_tables(catalog: KpiCatalog) -> SpecTables:
    """The events catalog (GA4 built-ins merged) as two Arrow tables for the quality SQL."""
    rows: dict[str, list[object]] = {f.name: [] for f in SPEC_SCHEMA}
    for name in sorted(catalog.events):
        for pname, p in sorted(catalog.events[name].spec.params.items()):
            if p.type == "items":  # items live in the `items` column, not in event_params
                continue
            for key, value in (("event_name", name), ("param", pname), ("required", p.required), ("type", p.type),
                               ("enum", [str(v) for v in p.enum] if p.enum else None), ("pattern", p.pattern),
                               ("min", None if p.min is None else float(p.min)),
                               ("max", None if p.max is None else float(p.max))):
                rows[key].append(value)
    events = pa.table({"event_name": pa.array(sorted(catalog.events), pa.string())})
    return SpecTables(events, pa.table(rows, schema=SPEC_SCHEMA))


# One row per (event, spec param): is the param there, of the right type, in range? Then one row per
# event (any violation makes the event invalid), then per day and event name.
QUALITY_SQL = """
WITH ev AS (
    SELECT event_date, event_name, event_params, row_number() OVER () AS eid
    FROM ga4_events
    WHERE event_date BETWEEN $start_date AND $end_date
),
checked AS (
    SELECT ev.eid, s.required, s.type, s.enum, s.pattern, s.min, s.max,
           list_extract(list_filter(ev.event_params, lambda x: x.key = s.param), 1).value AS v
    FROM ev JOIN spec_params s ON s.event_name = ev.event_name
),
violations AS (
    SELECT eid,
        bool_or(v IS NULL AND required) AS missing_required,
        bool_or(v IS NOT NULL AND CASE type
            WHEN 'string' THEN v.string_value IS NULL
            WHEN 'integer' THEN v.int_value IS NULL
                AND NOT coalesce(v.double_value = floor(v.double_value), v.float_value = floor(v.float_value), false)
            WHEN 'number' THEN v.int_value IS NULL AND v.double_value IS NULL AND v.float_value IS NULL
            WHEN 'boolean' THEN NOT (coalesce(v.int_value IN (0, 1), false)
                OR coalesce(lower(v.string_value) IN ('true', 'false'), false))
            ELSE false END) AS wrong_type,
        bool_or(v IS NOT NULL AND (
            (enum IS NOT NULL AND NOT list_contains(enum, coalesce(v.string_value, CAST(v.int_value AS VARCHAR))))
            OR (pattern IS NOT NULL AND v.string_value IS NOT NULL
                AND NOT regexp_full_match(v.string_value, pattern))
            OR (min IS NOT NULL AND coalesce(v.double_value, v.float_value, v.int_value) < min)
            OR (max IS NOT NULL AND coalesce(v.double_value, v.float_value, v.int_value) > max))
        ) AS out_of_range
    FROM checked
    GROUP BY eid
),
per_event AS (
    SELECT ev.event_date, ev.event_name,
        coalesce(vi.missing_required, false) AS missing_required,
        coalesce(vi.wrong_type, false) AS wrong_type,
        coalesce(vi.out_of_range, false) AS out_of_range,
        len(list_filter(ev.event_params, lambda x: regexp_matches(x.value.string_value, $email_re)
                                           OR regexp_matches(x.value.string_value, $phone_re))) > 0 AS pii_suspect
    FROM ev LEFT JOIN violations vi USING (eid)
)
SELECT strptime(event_date, '%Y%m%d')::DATE AS date, event_name,
    count(*) AS events,
    count(*) FILTER (WHERE missing_required OR wrong_type OR out_of_range OR pii_suspect) AS invalid_events,
    count(*) FILTER (WHERE missing_required) AS missing_required,
    count(*) FILTER (WHERE wrong_type) AS wrong_type,
    count(*) FILTER (WHERE out_of_range) AS out_of_range,
    count(*) FILTER (WHERE pii_suspect) AS pii_suspect,
    event_name IN (SELECT event_name FROM spec_events) AS in_spec
FROM per_event
GROUP BY ALL
"""


def compute_quality(con: duckdb.DuckDBPyConnection, catalog: KpiCatalog, start_date: str, end_date: str) -> pa.Table:
    """Quality rows per (date, event_name) for the YYYYMMDD range, as an Arrow table."""
    tables = spec_tables(catalog)
    con.register("spec_params", tables.params)
    con.register("spec_events", tables.events)
    try:
        params = {"start_date": start_date, "end_date": end_date, "email_re": EMAIL_RE, "phone_re": PHONE_RE}
        return con.sql(QUALITY_SQL, params=params).to_arrow_table()
    finally:
        con.unregister("spec_params")
        con.unregister("spec_events")
