"""Personal data has one definition (generator/rules/pii_values.py): `kpi check-events`, the catalog rule on a param's
example, the warehouse's data-quality check (DuckDB's RE2) and the dashboard's grouping flag the same strings."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from generator.compile import compile_paths
from generator.rules.pii import pii_signal
from generator.rules.pii_values import PII_PATTERN, personal_kind
from warehouse.connection import connect_store
from warehouse.flat_params import FlatParam
from warehouse.pii_search import PII_KEY
from warehouse.quality import PII_RE, compute_quality, quality_sql
from warehouse.schema import COLUMN_NAMES
from warehouse.schema.events import SLIM_TABLE
from warehouse.sources.arrow_days import ArrowDaysSource
from warehouse.sources.demo import DemoSource
from warehouse.store import run_load

KPIS = Path(__file__).resolve().parents[2] / "kpis"

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


@pytest.fixture(scope="module", params=["raw params", "load's column"])
def store(tmp_path_factory, request):
    """A small demo store: its first event is the template of the events the test below adds. Data quality
    searches the raw files' params, or reads the answer the load kept per event (`pii_search.PII_KEY`)."""
    con = connect_store(tmp_path_factory.mktemp("pii") / "w.duckdb")
    keys = [FlatParam(PII_KEY), FlatParam("ga_session_id")] if request.param == "load's column" else []
    run_load(con, DemoSource(300, 1, 42, date(2024, 1, 1)), flat_keys=keys)
    assert (f"FROM {SLIM_TABLE}" in quality_sql(con).split("pii AS")[1].split("invalid AS")[0]) is bool(keys)
    yield con
    con.close()


@pytest.mark.parametrize("value, kind", SAMPLES)
def test_the_data_quality_pass_counts_exactly_the_personal_values(store, value: str, kind: str | None) -> None:
    """The whole quality statement, its cheap pre-filters included, flags what the one pattern flags: here one
    event whose page_location carries the value (a URL-encoded e-mail address has no @ in it)."""
    probe = store.sql(f"""
        SELECT t.* REPLACE ('20990101' AS event_date, 'pii_probe' AS event_name,
            [{{'key': 'page_location', 'value': {{'string_value': $v, 'int_value': NULL, 'float_value': NULL,
              'double_value': NULL}}}}] AS event_params)
        FROM (SELECT {", ".join(COLUMN_NAMES)} FROM ga4_events WHERE event_date < '20990101' LIMIT 1) t""",
                      params={"v": value}).to_arrow_table()
    run_load(store, ArrowDaysSource({"20990101": probe}))  # the probe day, loaded again for each value
    table = compute_quality(store, compile_paths([KPIS]).catalog, "20990101", "20990101").to_pylist()
    assert [(row["event_name"], row["events"], row["pii_suspect"]) for row in table] == [
        ("pii_probe", 1, int(kind is not None))]
