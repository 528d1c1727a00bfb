"""The query plan: one compiled meaning per KPI, shared by every query target."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.parse.catalog import build_catalog
from generator.parse.loading import parse_document
from generator.plan.formula import FormulaError, parse_formula, references, render
from generator.plan.queries import compile_plan
from generator.rules.validate import validate_paths
from generator.spec.plain_words import describe_kpi

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def plan():
    result = validate_paths([REPO / "kpis"])
    assert not result.report.errors
    return compile_plan(result.catalog)


def test_every_active_example_kpi_is_compiled_and_derived_come_after_components(plan):
    ids = list(plan.kpis)
    assert len(ids) == 12
    assert ids.index("revenue_per_new_user") > ids.index("revenue")
    assert ids.index("revenue_per_new_user") > ids.index("new_users")


def test_measure_kinds_compile_to_the_expected_shape(plan):
    conv = plan.kpis["session_conversion_rate"]
    assert conv.kind == "ratio" and conv.aggregation == "ratio"
    assert (conv.numerator.kind, conv.numerator.event) == ("sessions_with", "purchase")
    assert conv.denominator.kind == "sessions"
    assert [b.name for b in conv.breakdowns] == ["channel", "device_category"]
    aov = plan.kpis["average_order_value"]
    assert aov.measure.kind == "average" and aov.aggregation == "ratio" and aov.measure.dedupe_transactions
    c2p = plan.kpis["cart_to_purchase_1d"]
    assert c2p.conversion.window_seconds == 86400 and c2p.conversion.per == "user"
    signups = plan.kpis["email_sign_ups"]
    assert [(f.name, f.operator, f.value) for f in signups.measure.filters] == [("method", "equals", "email")]
    leads = plan.kpis["leads"]
    assert leads.breakdowns[1].kind == "param" and leads.breakdowns[1].api_name == "customEvent:lead_source"
    derived = plan.kpis["revenue_per_new_user"]
    assert derived.components == ("revenue", "new_users") and derived.aggregation == "ratio"


def _kpi(measure_yaml: str, extra: str = "") -> str:
    return ("version: 1\nkpi: k\ntitle: K\ndescription: d\nobjective: o\nowner: me\nteam: t\n"
            f"measure:\n{measure_yaml}\n{extra}")


def _plan_of(*texts: str):
    docs = [parse_document(t.encode(), f"kpis/f{i}.yaml") for i, t in enumerate(texts)]
    catalog, issues = build_catalog(docs)
    assert not issues
    return compile_plan(catalog)


def test_definition_hash_changes_with_meaning_not_with_wording():
    base = _plan_of(_kpi("  sessions: {}")).kpis["k"].definition_hash
    reworded = _plan_of(_kpi("  sessions: {}").replace("title: K", "title: Visits")).kpis["k"].definition_hash
    filtered = _plan_of(_kpi("  sessions: {where: [{dimension: country, equals: DE}]}")).kpis["k"].definition_hash
    broken_down = _plan_of(_kpi("  sessions: {}", "breakdowns: [channel]")).kpis["k"].definition_hash
    assert base == reworded
    assert len({base, filtered, broken_down}) == 3


def test_plain_words_say_what_is_counted(plan):
    assert describe_kpi(plan.kpis["session_conversion_rate"]).startswith(
        "The sessions with a `purchase` event, divided by all sessions, per day.")
    assert "within 1 day" in describe_kpi(plan.kpis["cart_to_purchase_1d"])
    assert "`revenue` divided by `new_users`" in describe_kpi(plan.kpis["revenue_per_new_user"])


@pytest.mark.parametrize("text", ["a / b", "(a - b) / a", "a * 100 + b", "-a"])
def test_formulas_parse_and_round_trip(text):
    expr = parse_formula(text)
    assert parse_formula(render(expr)) == expr
    assert set(references(expr)) <= {"a", "b"}


@pytest.mark.parametrize("text", ["__import__('os').system('x')", "a.b", "a[1]", "a ** 2", "f(a)", "a /", "",
                                  "(" * 400 + "a" + ")" * 400])
def test_formulas_refuse_anything_but_arithmetic(text):
    with pytest.raises(FormulaError):
        parse_formula(text)
