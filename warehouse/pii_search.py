"""Whether an event's param values look like personal data: the search data quality's `pii_suspect` counts.

One definition, used where the event's `event_params` are read anyway: the load, which keeps the answer per event
in `slim_events` (`flat_params.py`, key `PII_KEY`), and data quality over the raw files (`quality.py`) for a
store that has no such column yet. The pattern is `generator/rules/pii_values.PII_PATTERN` (what `kpi validate`
looks for in the KPI files); it goes into the SQL as a literal node, which DuckDB compiles once.
"""

from __future__ import annotations

import hashlib

import sqlglot
from sqlglot import exp

from generator.rules.pii_values import PII_PATTERN
from generator.sql.export_shape import VERSION_MARK

_SEARCH = """
coalesce(CASE
    -- a cheap pre-filter first, on each value (joining every event's values costs more than searching the few
    -- joined): an e-mail address has an @ (%40 URL-encoded), a phone number starts with + or 00
    WHEN list_bool_or(list_transform(event_params, lambda x: contains(x.value.string_value, '@')
        OR contains(x.value.string_value, '+') OR contains(x.value.string_value, '00')
        OR contains(x.value.string_value, '%40')))
    -- the event's string values joined with \\x01, searched once: the pattern never matches across \\x01
    THEN regexp_matches(array_to_string(list_transform(event_params, lambda x: x.value.string_value), chr(1)),
                        pii_pattern)
    END, false)
"""


def pii_suspect() -> exp.Expr:
    """True when one of the row's `event_params` string values looks like an e-mail address or a phone number,
    else false (never NULL: an event without params is not suspect)."""
    search = sqlglot.parse_one(_SEARCH, read="duckdb")
    pattern = next(c for c in search.find_all(exp.Column) if c.name == "pii_pattern")
    pattern.replace(exp.Literal.string(PII_PATTERN))
    return search


PII_KEY = f"check:pii{VERSION_MARK}{hashlib.sha256(pii_suspect().sql('duckdb').encode()).hexdigest()[:12]}"
"""Its `flat_params` key (no GA4 param name has a colon), with a hash of the search after `VERSION_MARK`: a search
changed in the code is another key, so the warehouse makes the column again rather than read a stale one."""
