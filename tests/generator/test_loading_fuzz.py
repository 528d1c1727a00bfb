"""Hypothesis: whatever the bytes, loading, parsing and every rule end in a Document or issues, never a crash."""

from __future__ import annotations

import io
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from generator.issues import Issue
from generator.parse import loading
from generator.parse.catalog import build_catalog
from generator.parse.loading import Document, KpiFileError, parse_document
from generator.rules import ALL_RULES, run_rules

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_TEXTS = [p.read_text(encoding="utf-8") for p in sorted((REPO / "kpis").rglob("*.yaml"))]
FUZZ = settings(max_examples=int(os.environ.get("KPI_FUZZ_EXAMPLES", "150")), deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Words the models know, so random documents often get deep into the models and rules.
KEYS = ["version", "kpi", "title", "description", "objective", "owner", "team", "status", "tags", "measure", "format",
        "currency", "direction", "target", "thresholds", "breakdowns", "time_grain", "count", "users_with",
        "sessions_with", "users", "sessions", "new_users", "engaged_sessions", "sum", "average", "ratio", "numerator",
        "denominator", "conversion", "from", "to", "within", "per", "derived", "formula", "event", "param", "where",
        "dimension", "equals", "in", "gte", "value", "warn_below", "critical_below", "warn_above", "events",
        "trigger", "params", "type", "required", "enum", "pattern", "min", "max", "example", "pii", "user_properties",
        "key_event", "Title", "int", "list[str]"]
WORDS = ["purchase", "sign_up", "value", "channel", "up", "down", "percent", "currency", "EUR", "1d", "string",
         "number", "email", "revenue / new_users", "revenue", "session", "active", "2026-01-01", "page_path",
         "customer_email", "error", "ga_x", "a-b", "x" * 120]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(WORDS), st.text(max_size=20), st.dates())
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(min_size=1, max_size=8)),
                                            inner, max_size=6)),
    max_leaves=40)
kpi_like = st.fixed_dictionaries({"version": st.sampled_from([1, 2, "1"]), "kpi": st.sampled_from(["a", "revenue", "B"])},
                                 optional={k: documents for k in KEYS[2:30]})
catalog_like = st.fixed_dictionaries({"version": st.just(1), "events": st.dictionaries(
    st.sampled_from(WORDS + ["quote_request"]), st.fixed_dictionaries({}, optional={
        "trigger": st.sampled_from(["", "When x."]), "params": st.dictionaries(
            st.sampled_from(WORDS + ["plan"]), st.dictionaries(st.sampled_from(KEYS[49:62]), scalars, max_size=5),
            max_size=4)}), max_size=4)}, optional={"user_properties": documents})


def _dump(data: object) -> bytes:
    out = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = None
    yaml.dump(data, out)
    return out.getvalue().encode("utf-8")


def _check_everything(docs: list[Document]) -> list[Issue]:
    catalog, issues = build_catalog(docs)
    issues += list(run_rules(ALL_RULES, catalog))
    crashed = [i for i in issues if i.code == "KB900"]
    assert not crashed, crashed
    for issue in issues:
        assert issue.message and issue.location.file and issue.location.line >= 1
    return issues


def _parse(raw: bytes, name: str = "kpis/fuzz.yaml") -> Document | None:
    try:
        return parse_document(raw, name)
    except KpiFileError as err:
        assert err.issue.location.file == name and err.issue.message
        return None


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes_never_crash(raw: bytes) -> None:
    doc = _parse(raw)
    if doc is not None:
        _check_everything([doc])


@FUZZ
@given(st.sampled_from(EXAMPLE_TEXTS), st.lists(st.tuples(st.floats(0, 1), st.sampled_from(
    list("[]{}:,-&*!|>'\"#%@`\t\n ") + ["\x00", "é", "- ", ": ", "  ", "\n  ", "*a", "&a "])), min_size=1, max_size=5))
def test_broken_examples_never_crash_and_both_paths_agree(text: str, edits: list[tuple[float, str]]) -> None:
    for where, insert in edits:
        at = int(where * len(text))
        text = text[:at] + insert + text[at:]
    raw = text.encode("utf-8")
    fast = _parse(raw)
    saved = loading._LibyamlParser
    loading._LibyamlParser = None
    try:
        slow = _parse(raw)
    finally:
        loading._LibyamlParser = saved
    assert (fast is None) == (slow is None)
    assert fast == slow
    if fast is not None:
        _check_everything([fast])


@FUZZ
@given(st.lists(st.one_of(kpi_like, catalog_like, documents), min_size=1, max_size=4))
def test_structured_random_documents_never_crash(datas: list[object]) -> None:
    docs = [d for i, data in enumerate(datas) if (d := _parse(_dump(data), f"kpis/f{i}.yaml")) is not None]
    _check_everything(docs)
