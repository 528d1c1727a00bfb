"""Data quality from the data itself: per event and day, volume and how many events break the spec.

The spec (every event's params: required, type, enum, pattern, bounds) is handed to DuckDB as a
table, so one fixed SQL statement checks any spec: no SQL is assembled from marketer text.

Besides the spec checks (which make an event *invalid*), the same pass counts what GA4's own rules say about
the events (`CHECKS`, each with its level for `kpi status --fail-on`): extra copies of a transaction id,
consented events outside any session (no `ga_session_id`), cookieless pings (no `user_pseudo_id`, consent
mode) and event names GA4's naming rule rejects (`generator.ga4.limits.name_problem`, the rule `kpi validate`
applies to the KPI files).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp

from generator.compile import spec_rows
from generator.ga4.limits import name_problem
from generator.parse.catalog import KpiCatalog
from generator.rules.pii_values import PII_PATTERN
from generator.sql.dialects import lower
from generator.sql.dimensions import NOT_SET
from generator.sql.export_shape import ExportShape, session_value_key
from generator.sql.params import param_record, session_value

from .flat_params import warehouse_shape
from .pii_search import PII_KEY, pii_suspect
from .raw_files import days_view
from .schema.events import SLIM_TABLE
from .sql_texts import kept_text, text_key

Level = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Check:
    """A per-event, per-day count in `event_quality`: its column, how `kpi status` names it, and its level
    (`kpi status --fail-on error` stops on an error, `--fail-on warning` on a warning or an error; info never)."""

    column: str
    label: str
    level: Level
    why: str


CHECKS: tuple[Check, ...] = (
    # spec checks: they make an event invalid; an event more than 5 % invalid is `broken` (an error)
    Check("missing_required", "missing required param", "warning", "a param the spec requires is missing"),
    Check("wrong_type", "wrong type", "warning", "a param has another type than the spec's"),
    Check("out_of_range", "value not allowed", "warning", "a value outside the allowed list, pattern or bounds"),
    Check("pii_suspect", "personal data", "warning", "a value looks like an e-mail address or a phone number"),
    # GA4's own rules (issue 10 §9)
    Check("duplicate_transactions", "duplicate transaction id", "warning",
          "extra copies of a transaction id seen before (a reloaded confirmation page): GA4 counts it once"),
    Check("no_session_id", "no ga_session_id", "warning",
          "a consented event (it has a user_pseudo_id) without a ga_session_id: in no session count"),
    Check("cookieless", "cookieless (no user_pseudo_id)", "info",
          "a consent-mode ping sent without consent: counted as an event, in no user or session count"),
    Check("bad_event_name", "name GA4 rejects", "error",
          "the event name breaks GA4's naming rule (letters, digits, _; a letter first; at most 40 characters)"),
)
NEW_CHECK_COLUMNS = ("duplicate_transactions", "no_session_id", "cookieless", "bad_event_name")


SPEC_SCHEMA = pa.schema([
    ("event_name", pa.string()), ("param", pa.string()), ("required", pa.bool_()), ("type", pa.string()),
    ("enum", pa.list_(pa.string())), ("pattern", pa.string()), ("min", pa.float64()), ("max", pa.float64()),
])


@dataclass(frozen=True)
class SpecTables:
    events: pa.Table  # event_name
    params: pa.Table  # SPEC_SCHEMA


def spec_tables(catalog: KpiCatalog) -> SpecTables:
    """The events catalog (GA4 built-ins merged) as two Arrow tables for the quality SQL: its event names, and
    its params as `generator.compile.spec_rows` lists them (the rows the spec hash covers)."""
    events = pa.table({"event_name": pa.array(sorted(catalog.events), pa.string())})
    return SpecTables(events, pa.Table.from_pylist(spec_rows(catalog), schema=SPEC_SCHEMA))


# A param value that looks like an e-mail address or a phone number (generator/rules/pii_values.py, the one
# definition; searched by `pii_search.pii_suspect`).
PII_RE = PII_PATTERN

EVENT_ID = "(kb_file << 32) + kb_row"
"""An event's number in data quality: its raw file and its row there (`raw_files.py`)."""
IN_RANGE = "event_date BETWEEN $start_date AND $end_date"
RANGE_RAW = "kb_quality_raw"
"""The raw export of the checked days only (`raw_files.days_view`, in the shape of `ga4_events`)."""

# The event's session id as the KPI SQL reads it (`params.session_value`), from the raw export's params.
SESSION_ID_SQL = lower(session_value("ga_session_id", param_record("ga_session_id")), "duckdb").sql("duckdb")

# Per (event, spec param): the param's first value (found through the event's list of keys, computed once per
# event) and whether it breaks the spec. A cheap first filter keeps only the pairs that can break it at all (a
# small share), so the full checks, the grouping per event and the PII search's results are small; the full
# checks judge each distinct (spec param, value) once (`judged`: a pattern held in a column is a regular
# expression compiled for every row it meets; at 5M events 5.3 → 4.2 CPU s, the same rows); the volume is
# counted straight from the events. `ev` is read from the table by each of its readers (the row id
# identifies an event): cheaper than storing every event's params.
QUALITY_SQL = f"""
WITH ev AS NOT MATERIALIZED (
    SELECT event_date, event_name, event_params, {EVENT_ID} AS eid
    FROM ga4_events
    WHERE {IN_RANGE}
),
-- the volume: read from the slim columns where the session id is one (`quality_sql`), not from the raw files
counted AS (
    SELECT event_date, event_name, user_pseudo_id, {SESSION_ID_SQL} AS session_id
    FROM ga4_events
    WHERE {IN_RANGE}
),
-- transaction ids: each (event, id) counts once; every later copy (any earlier day included) is an extra one.
-- Only ids seen in the range are looked up in the days before it (a cheap filter: purchases are few).
range_ids AS (
    SELECT DISTINCT ecommerce.transaction_id AS tid FROM slim_events
    WHERE event_date BETWEEN $start_date AND $end_date AND ecommerce.transaction_id NOT IN ('', $not_set)
),
copies AS (
    SELECT event_date, event_name, row_number() OVER (
        PARTITION BY event_name, ecommerce.transaction_id ORDER BY event_date, event_timestamp) AS copy
    FROM slim_events
    WHERE event_date <= $end_date AND ecommerce.transaction_id IN (SELECT tid FROM range_ids)
),
duplicates AS (
    SELECT event_date, event_name, count(*) AS duplicate_transactions FROM copies
    WHERE copy > 1 AND event_date >= $start_date GROUP BY ALL
),
spec AS (
    SELECT *, row_number() OVER () AS spec_id,
        CASE type WHEN 'string' THEN 1 WHEN 'integer' THEN 2 WHEN 'number' THEN 3 WHEN 'boolean' THEN 4
                        ELSE 0 END AS type_code,
        enum IS NOT NULL OR pattern IS NOT NULL OR min IS NOT NULL OR max IS NOT NULL AS bounded
    FROM spec_params
),
candidates AS (
    SELECT * FROM (
        SELECT k.eid, k.event_date, k.event_name, s.spec_id, s.required, s.type_code, s.bounded,
               k.event_params[list_position(k.keys, s.param)].value AS v
        FROM (SELECT *, list_transform(event_params, lambda x: x.key) AS keys FROM ev) k
        JOIN spec s ON s.event_name = k.event_name
        -- no limit: a fence that keeps the pass below out of the join, where DuckDB would find each pair's value
        -- again for each of its tests (at 5M events 11.9M pairs: 2.85 -> 2.67 CPU s for the statement)
        LIMIT 9223372036854775807)
    -- a cheap first pass: the pairs that can break the spec at all (the flags below decide)
    WHERE (v IS NULL AND required)
        OR (v IS NOT NULL AND (bounded
            OR (type_code = 1 AND v.string_value IS NULL)
            OR (type_code = 2 AND v.int_value IS NULL)
            OR (type_code = 3 AND v.int_value IS NULL AND v.double_value IS NULL AND v.float_value IS NULL)
            OR type_code = 4))
),
judged AS (
    SELECT spec_id, v,
        coalesce(CASE type_code
            WHEN 1 THEN v.string_value IS NULL
            WHEN 2 THEN v.int_value IS NULL
                AND NOT coalesce(v.double_value = floor(v.double_value), v.float_value = floor(v.float_value), false)
            WHEN 3 THEN v.int_value IS NULL AND v.double_value IS NULL AND v.float_value IS NULL
            WHEN 4 THEN NOT (coalesce(v.int_value IN (0, 1), false)
                OR coalesce(lower(v.string_value) IN ('true', 'false'), false))
            ELSE false END, false) AS wrong_type,
        coalesce(
            (enum IS NOT NULL AND NOT list_contains(enum, coalesce(v.string_value, CAST(v.int_value AS VARCHAR))))
            OR (pattern IS NOT NULL AND v.string_value IS NOT NULL
                AND NOT regexp_full_match(v.string_value, pattern))
            OR (min IS NOT NULL AND coalesce(v.double_value, v.float_value, v.int_value) < min)
            OR (max IS NOT NULL AND coalesce(v.double_value, v.float_value, v.int_value) > max), false) AS out_of_range
    FROM (SELECT DISTINCT spec_id, v FROM candidates WHERE v IS NOT NULL) JOIN spec USING (spec_id)
),
flagged AS (
    SELECT c.eid, c.event_date, c.event_name, coalesce(c.v IS NULL AND c.required, false) AS missing_required,
        coalesce(j.wrong_type, false) AS wrong_type, coalesce(j.out_of_range, false) AS out_of_range
    FROM candidates c LEFT JOIN judged j ON j.spec_id = c.spec_id AND j.v IS NOT DISTINCT FROM c.v
),
violating AS (
    SELECT eid, any_value(event_date) AS event_date, any_value(event_name) AS event_name,
        bool_or(missing_required) AS missing_required, bool_or(wrong_type) AS wrong_type,
        bool_or(out_of_range) AS out_of_range, false AS pii_suspect
    FROM flagged
    WHERE missing_required OR wrong_type OR out_of_range
    GROUP BY eid
),
pii AS (
    -- `pii_suspected` stands for `pii_search.pii_suspect()` over the raw params, or its column in `slim_events`
    SELECT eid, event_date, event_name, false, false, false, true FROM ev WHERE pii_suspected
),
invalid AS (
    SELECT event_date, event_name, count(*) AS invalid_events,
        count(*) FILTER (WHERE missing_required) AS missing_required,
        count(*) FILTER (WHERE wrong_type) AS wrong_type,
        count(*) FILTER (WHERE out_of_range) AS out_of_range,
        count(*) FILTER (WHERE pii_suspect) AS pii_suspect
    FROM (
        SELECT eid, any_value(event_date) AS event_date, any_value(event_name) AS event_name,
            bool_or(missing_required) AS missing_required, bool_or(wrong_type) AS wrong_type,
            bool_or(out_of_range) AS out_of_range, bool_or(pii_suspect) AS pii_suspect
        FROM (SELECT * FROM violating UNION ALL SELECT * FROM pii)
        GROUP BY eid
    )
    GROUP BY event_date, event_name
),
volume AS (
    SELECT event_date, event_name, count(*) AS events,
        count(*) FILTER (WHERE user_pseudo_id IS NULL) AS cookieless,
        count(*) FILTER (WHERE user_pseudo_id IS NOT NULL AND session_id IS NULL) AS no_session_id
    FROM counted GROUP BY event_date, event_name
)
SELECT strptime(event_date, '%Y%m%d')::DATE AS date, event_name, events,
    coalesce(invalid_events, 0) AS invalid_events, coalesce(missing_required, 0) AS missing_required,
    coalesce(wrong_type, 0) AS wrong_type, coalesce(out_of_range, 0) AS out_of_range,
    coalesce(pii_suspect, 0) AS pii_suspect,
    event_name IN (SELECT event_name FROM spec_events) AS in_spec,
    coalesce(duplicate_transactions, 0) AS duplicate_transactions, no_session_id, cookieless
FROM volume LEFT JOIN invalid USING (event_date, event_name) LEFT JOIN duplicates USING (event_date, event_name)
"""


def quality_sql(con: duckdb.DuckDBPyConnection) -> str:
    """`QUALITY_SQL` for this store, built as an AST and kept between refreshes (`sql_texts.py`). The spec checks
    read the raw export of the checked days (`RANGE_RAW`, a view over their raw files only: they read every
    param), each event numbered by its file and row. Where the store has the columns (every store a refresh or
    load since schema 19 wrote), the rest reads `slim_events`:

    - the volume, with the session id from its flattened column (the KPIs' session key reads it too): at 5M
      events, reading the raw files' params a third time for it cost about 1.5 CPU s;
    - the PII search, from the answer the load kept per event (`pii_search.PII_KEY`), where reading the raw
      files' params for it cost 2.1 CPU s; elsewhere it searches the raw params (`pii_search.pii_suspect`)."""
    shape = warehouse_shape(con)
    return kept_text(con, text_key("quality", None, shape), lambda: _built(shape))


def _built(shape: ExportShape) -> str:
    statement = sqlglot.parse_one(QUALITY_SQL, read="duckdb")
    for table in statement.find_all(exp.Table):  # the checked days' files only (`compute_quality`)
        if table.name == "ga4_events":
            table.set("this", exp.to_identifier(RANGE_RAW))
    ctes = {c.alias: c.this for c in statement.find_all(exp.CTE)}
    value, record, pii = (shape.flat_column(session_value_key("ga_session_id")), shape.flat_column("ga_session_id"),
                          shape.flat_column(PII_KEY))
    slim = not shape.event_params
    if slim and (value or record):  # the session id's value the load kept, else computed from its record
        ctes["counted"].set("from_", exp.From(this=exp.to_table(SLIM_TABLE)))
        sid = next(a for a in ctes["counted"].expressions if a.alias == "session_id")
        sid.set("this", exp.column(value) if value else lower(
            session_value("ga_session_id", param_record("ga_session_id")), "duckdb", export=shape))
    if slim and pii:  # the load's answer, each event numbered as in `ev`
        ctes["pii"].set("from_", exp.From(this=exp.to_table(SLIM_TABLE)))
        eid = next(c for c in ctes["pii"].expressions if isinstance(c, exp.Column) and c.name == "eid")
        eid.replace(exp.alias_(sqlglot.parse_one(EVENT_ID, read="duckdb"), "eid"))
        ctes["pii"].where(exp.and_(exp.condition(IN_RANGE, dialect="duckdb"), exp.column(pii)), append=False, copy=False)
    else:
        next(c for c in ctes["pii"].find_all(exp.Column) if c.name == "pii_suspected").replace(pii_suspect())
    return statement.sql("duckdb")


def compute_quality(con: duckdb.DuckDBPyConnection, catalog: KpiCatalog, start_date: str, end_date: str) -> pa.Table:
    """Quality rows per (date, event_name) for the YYYYMMDD range, as an Arrow table."""
    tables = spec_tables(catalog)
    sql = quality_sql(con)
    con.register("spec_params", tables.params)
    con.register("spec_events", tables.events)
    try:
        params = {"start_date": start_date, "end_date": end_date, "not_set": NOT_SET}
        with days_view(con, RANGE_RAW, start_date, end_date):
            return with_name_check(con.sql(sql, params=params).to_arrow_table())
    finally:
        con.unregister("spec_params")
        con.unregister("spec_events")


def with_name_check(table: pa.Table) -> pa.Table:
    """The quality rows with `bad_event_name`: all of the row's events when GA4's naming rule rejects its name
    (checked once per distinct name, in Python, by the rule `kpi validate` uses)."""
    names = table.column("event_name").to_pylist()
    bad = {n for n in set(names) if name_problem(n or "")}
    counts = table.column("events").to_pylist()
    column = pa.array([c if n in bad else 0 for n, c in zip(names, counts, strict=True)], pa.int64())
    return table.append_column("bad_event_name", column)


def stale_quality_days(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Days whose quality rows were computed before the checks of `NEW_CHECK_COLUMNS` existed (NULL there):
    the next refresh checks them again, so no day shows 0 for a check it never ran."""
    rows = con.execute("SELECT DISTINCT strftime(date, '%Y%m%d') FROM event_quality "
                       "WHERE duplicate_transactions IS NULL OR bad_event_name IS NULL").fetchall()
    return {d for (d,) in rows}


def check(column: str) -> Check:
    return next(c for c in CHECKS if c.column == column)
