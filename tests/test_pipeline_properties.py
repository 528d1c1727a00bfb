"""Issue 12 §1: what passes `kpi validate` always generates and refreshes (property-based).

The places to attack are derived from the models' own fields: every field typed as a number (filters,
targets, thresholds, param bounds, examples) and every text field checked later (windows, patterns,
formulas) found in the example KPI files. Hypothesis puts extreme and hostile values there; each example
either fails `kpi validate` with every error located (file and line), or passes and then compiles, renders
both SQL dialects and the tracking spec, and refreshes on a real DuckDB store with no KPI failing.
"""

from __future__ import annotations

import json
import math
import shutil
import types
import typing
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from generator.models.event import EventsCatalog
from generator.models.kpi import Kpi
from generator.parse.loading import load_document
from generator.plan.queries import compile_plan
from generator.rules.validate import validate_paths
from generator.spec.model import build_spec
from generator.sql import render_plan_sql
from warehouse.connection import connect_store
from warehouse.refresh import refresh_kpis
from warehouse.serving import publish_serving
from warehouse.sources.arrow_days import ArrowDaysSource
from warehouse.sources.demo import iter_demo_days
from warehouse.store import run_load

REPO = Path(__file__).resolve().parents[1]
TEXT_FIELDS = {"within", "pattern", "formula"}  # text that later stages parse or run


def _fields(model: type[BaseModel], seen: set[type] | None = None) -> dict[str, set[str]]:
    """Field name (as written in a file) → the kinds it holds ('number', 'text'), over every nested model."""
    seen = seen if seen is not None else set()
    out: dict[str, set[str]] = {}
    if model in seen:
        return out
    seen.add(model)
    for name, field in model.model_fields.items():
        key = field.alias or name
        for kind in _kinds(field.annotation):
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                for k, v in _fields(kind, seen).items():
                    out.setdefault(k, set()).update(v)
            elif kind in (int, float):
                out.setdefault(key, set()).add("number")
            elif kind is str:
                out.setdefault(key, set()).add("text")
    return out


def _kinds(annotation: object) -> list[object]:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, list, dict) and args:
        return [k for a in args for k in _kinds(a)]
    return [annotation]


FIELDS = {k: v for model in (Kpi, EventsCatalog) for k, v in _fields(model).items()}
NUMBER_KEYS = {k for k, kinds in FIELDS.items() if "number" in kinds} - {"version"}


def _sites() -> list[tuple[str, tuple, str]]:
    """(file, key path, 'number' | 'text') for every attackable value in the example KPI files."""
    out = []
    for path in sorted((REPO / "kpis").rglob("*.yaml")):
        doc = load_document(path)
        name = str(path.relative_to(REPO / "kpis"))

        def walk(node, at, name=name):
            if isinstance(node, dict):
                for k, v in node.items():
                    walk(v, (*at, k), name)
            elif isinstance(node, list):
                for i, v in enumerate(node):
                    walk(v, (*at, i), name)
            else:
                key = next((p for p in reversed(at) if isinstance(p, str)), None)
                if isinstance(node, int | float) and not isinstance(node, bool) and key in NUMBER_KEYS:
                    out.append((name, at, "number"))
                elif isinstance(node, str) and key in TEXT_FIELDS:
                    out.append((name, at, "text"))

        walk(doc.data, ())
    return out


SITES = _sites()
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, -0.0, 1e308, -1e308, 5e-324, 2**53, 2**53 + 1, 2**63, -(2**63) - 1, 10**20]),
)
TEXTS = st.one_of(
    st.sampled_from(["([unclosed", "^(a+)+$", "(a)\\1", "(?=x)", "99999999999999999999d", "0d", "1m", "90d",
                     "91d", "2160h", "revenue / 0", "revenue * 1e309", "revenue / (1 - 1)", "-revenue", "1e999",
                     "a{1001}", "x" * 2000, "", "\\", "revenue / new_users"]),
    st.text(max_size=40),
)


def _yaml(value: object) -> str:
    """A value as YAML flow text (JSON-like, with YAML's own spelling of inf and nan)."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(str(k))}: {_yaml(v)}" for k, v in value.items()) + "}"


def _set(data, path, value):
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value



def Days(tables):  # noqa: N802 - reads like the load source it returns
    return ArrowDaysSource(tables, "property test days")


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("props") / "warehouse.duckdb"
    con = connect_store(db)
    try:
        run_load(con, Days(iter_demo_days(events=1_500, days=3, seed=4, end_date=date(2024, 3, 31))))
    finally:
        con.close()
    return db


def test_the_sites_cover_every_kind_of_value() -> None:
    assert {"gte", "target", "warn_below", "value", "min", "max"} <= NUMBER_KEYS
    kinds = {kind for _f, _p, kind in SITES}
    keys = {next(p for p in reversed(at) if isinstance(p, str)) for _f, at, _k in SITES}
    assert kinds == {"number", "text"} and {"within", "pattern", "formula", "target"} <= keys


@pytest.mark.slow
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(site=st.sampled_from(SITES), data=st.data())
def test_validate_rejects_with_a_location_or_every_later_stage_succeeds(site, data, store, tmp_path_factory):
    file, path, kind = site
    value = data.draw(NUMBERS if kind == "number" else TEXTS, label=f"{file}:{'.'.join(map(str, path))}")
    kpis = tmp_path_factory.mktemp("kpis") / "kpis"
    shutil.copytree(REPO / "kpis", kpis)
    doc = load_document(kpis / file)
    _set(doc.data, path, value)
    (kpis / file).write_text(_yaml(doc.data) + "\n", encoding="utf-8")

    result = validate_paths([kpis], relative_to=kpis.parent)
    if result.report.errors:
        for issue in result.report.errors:
            assert issue.location.file.startswith("kpis/") and issue.location.line >= 1, issue
            assert issue.code != "KB900", issue  # no internal error
        return
    plan = compile_plan(result.catalog)
    build_spec(result.catalog)
    for dialect in ("duckdb", "bigquery"):
        render_plan_sql(plan, dialect)
    con = connect_store(store)
    try:
        summary = refresh_kpis(con, result.catalog, plan)
        publish_serving(con, store, result.catalog, plan)
    finally:
        con.close()
    assert summary.failed == [], summary.failure_lines()
