"""Personal data has one definition (generator/rules/pii_values.py): `kpi check-events`, the catalog rule on a param's
example, the warehouse's data-quality check (DuckDB's RE2) and the dashboard's grouping flag the same strings."""

from __future__ import annotations

import duckdb
import pytest

from generator.rules.pii import pii_signal
from generator.rules.pii_values import PII_PATTERN, personal_kind
from warehouse.quality import PII_RE

# (value, what it is), labelled by hand
SAMPLES = [
    ("jane.doe@mail.example", "email"),
    ("https://shop.example/welcome?email=jane.doe%40mail.example", "email"),
    ("Contact: Max.Mustermann+shop@firma.de please", "email"),
    ("+49 170 1234567", "phone"),
    ("0049 (170) 123-4567", "phone"),
    ("call +44 20 7946 0958 today", "phone"),
    ("email", None),
    ("Paid Search", None),
    ("T-20240131-0001", None),
    ("order 100012345678", None),  # an id with 00 inside a longer number is no phone number
    ("+49 170", None),  # too short
    ("@handle", None),
    ("", None),
]


@pytest.mark.parametrize("value, kind", SAMPLES)
def test_every_stage_flags_the_same_strings(value: str, kind: str | None) -> None:
    assert personal_kind(value) == kind  # check-events and the catalog rule
    with duckdb.connect() as con:  # the warehouse's check and the dashboard's grouping run this in DuckDB
        (found,) = con.execute("SELECT regexp_matches(?, ?)", [value, PII_RE]).fetchone()
    assert found is (kind is not None)


def test_the_warehouse_uses_the_one_pattern_and_the_rule_reads_examples_with_it() -> None:
    assert PII_RE == PII_PATTERN
    assert pii_signal("contact_value", example="jane.doe@mail.example") == ("email", "its example `jane.doe@mail.example`")
    assert pii_signal("contact_value", example="+49 170 1234567") == ("phone", "its example `+49 170 1234567`")
    assert pii_signal("contact_value", example="Paid Search") is None
