"""Each loaded day's distinct values of every dimension and param the KPI files filter or break down by, kept.

The findings of `value_findings.py` compare a KPI file's values with the values the data holds. Reading them
from the events costs a scan of every loaded day (and GA4's session attribution, for `channel`); they only
change when a day is (re)loaded, so each day is read once, when first seen or reloaded (`loaded_days.loaded_at`
moved), and kept in `observed_day_values`: a refresh with one new day reads that day, one with nothing new
reads none (issue 13 §4). `kpi refresh --full` reads every day again.

At most `MAX_VALUES` + 1 values are kept per subject and day: past `MAX_VALUES` (a free-text param) the
subject is incomplete and nothing is reported for it, as before. Values are per day, so a session running
over midnight is attributed on each of its days as if it began there (its channel there may be "Direct"):
the set of values can only grow by that, so no finding is ever made up by it.

`kpi validate --db` reads the store read-only: it uses the kept days and reads the others without keeping them.

The session dimensions (channel, source, medium, campaign, landing page: `session_subjects`) need GA4's
session attribution, as the attribution methods do; the refresh reads their values with the methods, in one
statement, and keeps them in the methods' transaction (`keep_values`). The check after it then finds those
days kept; with `--full` it reads again only the days not read since the refresh began (`fresh_since`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import duckdb

from generator.parse.catalog import KpiCatalog
from generator.rules.data_values import ObservedValues
from generator.rules.value_uses import Subject, subjects
from generator.sql import sql_parameters
from generator.sql.dimensions import SESSION_DIMENSIONS

from .clock import utc_now
from .connection import transaction
from .refresh_days import contiguous_ranges, parse_day
from .statements import values_sql

MAX_VALUES = 20_000
"""Distinct values read per dimension or param; past this (a free-text param) nothing is reported for it."""

def session_subjects(catalog: KpiCatalog) -> list[Subject]:
    """The session dimensions the KPI files filter or break down by (channel, source, …, of any event): their
    values a day are read with the attribution methods (`attribution_methods.refresh_attribution`)."""
    return [s for s in subjects(catalog) if s.kind == "dimension" and s.event is None
            and s.name in SESSION_DIMENSIONS]


def subject_key(subject: Subject) -> str:
    return f"{subject.kind}|{subject.event or ''}|{subject.name}"


def observed(con: duckdb.DuckDBPyConnection, subjects: list[Subject], *, keep: bool = True,
             again: bool = False, fresh_since: dt.datetime | None = None) -> dict[Subject, ObservedValues]:
    """The distinct values of each subject over every loaded day; days not read yet are read now and, with
    `keep`, kept (one transaction). `again`: read every day anew (`kpi refresh --full`), but for those read at
    or after `fresh_since` (by this refresh's attribution methods: `keep_values`)."""
    loaded = {day: at for day, at in con.execute("SELECT event_date, loaded_at FROM loaded_days").fetchall()}
    if not loaded:
        return {}
    out: dict[Subject, ObservedValues] = {}
    fresh: list[tuple[str, str, dt.datetime, bool, list[str]]] = []  # (subject, day, loaded_at, complete, values)
    for subject in subjects:
        key = subject_key(subject)
        seen = _seen(con, key)
        if again:
            seen = {day: kept for day, kept in seen.items() if fresh_since is not None and kept[2] >= fresh_since}
        todo = [day for day, at in loaded.items() if day not in seen or seen[day][0] != at]
        read: dict[str, list[str]] = defaultdict(list)
        sql = values_sql(con, subject, MAX_VALUES + 1) if todo else ""
        for start, end in contiguous_ranges(todo):
            for day, value in con.execute(sql, sql_parameters(parse_day(start), parse_day(end))).fetchall():
                read[str(day)].append(str(value))
        for day in todo:
            fresh.append((key, day, loaded[day], len(read[day]) <= MAX_VALUES, read[day]))
        kept_days = [day for day in loaded if day not in todo]
        values = {v for day in todo for v in read[day]}
        if kept_days:
            values |= {str(v) for (v,) in con.execute(
                "SELECT DISTINCT value FROM observed_day_values WHERE subject = $s AND list_contains($days, event_date)",
                {"s": key, "days": kept_days}).fetchall() if v is not None}
        complete = all(seen[day][1] for day in kept_days) and all(len(read[day]) <= MAX_VALUES for day in todo)
        complete = complete and len(values) <= MAX_VALUES
        out[subject] = ObservedValues(frozenset(sorted(values)[:MAX_VALUES]), complete=complete)
    if keep and fresh:
        _keep(con, fresh)
    return out


def _seen(con: duckdb.DuckDBPyConnection, key: str) -> dict[str, tuple[dt.datetime, bool, dt.datetime]]:
    """(loaded_at, complete, checked_at) of each day kept for the subject; none on a store not migrated yet
    (read-only)."""
    try:
        rows = con.execute("SELECT event_date, loaded_at, complete, checked_at FROM observed_days WHERE subject = $s",
                           {"s": key}).fetchall()
    except duckdb.CatalogException:
        return {}
    return {day: (at, complete, checked) for day, at, complete, checked in rows}


def keep_values(con: duckdb.DuckDBPyConnection, read: dict[Subject, dict[str, list[str]]]) -> None:
    """Keep values just read elsewhere (`attribution_methods.refresh_attribution`: a subject's values a day, at
    most `MAX_VALUES` + 1) as the observed values of those days, inside the caller's transaction."""
    loaded = {day: at for day, at in con.execute("SELECT event_date, loaded_at FROM loaded_days").fetchall()}
    _write(con, [(subject_key(subject), day, loaded[day], len(values) <= MAX_VALUES, values)
                 for subject, days in read.items() for day, values in days.items() if day in loaded])


def _keep(con: duckdb.DuckDBPyConnection, fresh: list[tuple[str, str, dt.datetime, bool, list[str]]]) -> None:
    with transaction(con):
        _write(con, fresh)


def _write(con: duckdb.DuckDBPyConnection, fresh: list[tuple[str, str, dt.datetime, bool, list[str]]]) -> None:
    import pyarrow as pa

    if not fresh:
        return
    now = utc_now()
    days = pa.table({"subject": [f[0] for f in fresh], "event_date": [f[1] for f in fresh],
                     "loaded_at": [f[2] for f in fresh], "complete": [f[3] for f in fresh],
                     "checked_at": [now] * len(fresh)})
    values = pa.table({"subject": [f[0] for f in fresh for _ in f[4]], "event_date": [f[1] for f in fresh for _ in f[4]],
                       "value": [v for f in fresh for v in f[4]]}, schema=pa.schema(
        [("subject", pa.string()), ("event_date", pa.string()), ("value", pa.string())]))
    con.register("kb_observed_days_new", days)
    try:
        con.execute("DELETE FROM observed_day_values WHERE (subject, event_date) IN "
                    "(SELECT (subject, event_date) FROM kb_observed_days_new)")
        con.execute("INSERT OR REPLACE INTO observed_days BY NAME SELECT * FROM kb_observed_days_new")
        con.from_arrow(values).insert_into("observed_day_values")
    finally:
        con.unregister("kb_observed_days_new")
