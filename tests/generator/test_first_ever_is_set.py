"""Issue 10 §6 in the generator: `first_ever` and `is_set` in plain words, `kpi explain` and the Data API plan."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from generator.parse.catalog import load_catalog
from generator.plan.api_plan import api_plan_to_dict, compile_api_plan
from generator.plan.queries import compile_plan
from kpibridge.cli import app

REPO = Path(__file__).resolve().parents[2]
HEAD = "version: 1\ntitle: T\ndescription: D.\nobjective: Grow online revenue\nowner: o@shop.example\nteam: t\n"
FILES = {
    "new_customers": "measure:\n  users_with:\n    event: purchase\n    first_ever: true\n"
                     "    where: [{param: transaction_id, is_set: true}]\nbreakdowns: [channel]\n",
    "purchases_with_id": "measure:\n  count: {event: purchase, where: [{param: transaction_id, is_set: true}]}\n",
    "leads_without_source": "measure:\n  count: {event: generate_lead, where: [{param: lead_source, is_set: false}]}\n",
    "new_signup_purchase_7d": "measure:\n  conversion:\n    from: {event: sign_up, first_ever: true}\n"
                              "    to: purchase\n    within: 7d\nformat: percent\n",
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(REPO / "kpis", tmp_path / "kpis")
    for kid, body in FILES.items():
        (tmp_path / "kpis" / f"{kid}.yaml").write_text(f"{HEAD}kpi: {kid}\n{body}", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _explain(kpi: str, *more: str) -> str:
    result = CliRunner().invoke(app, ["explain", kpi, *more])
    assert result.exit_code == 0, result.output
    return " ".join(result.stdout.split())


def test_validate_accepts_them(project: Path) -> None:
    result = CliRunner().invoke(app, ["validate", "kpis"])
    assert result.exit_code == 0, result.output


def test_explain_says_first_ever_in_plain_words(project: Path) -> None:
    text = _explain("new_customers")
    assert "The users whose first `purchase` event ever was on that day" in text
    assert "param `transaction_id` is set (neither missing, empty nor `(not set)`)" in text
    assert "never again later" in text
    assert "cannot count each user's first `purchase` event ever" in text  # why the Data API is not used
    conversion = _explain("new_signup_purchase_7d")
    assert "Of the users with their first `sign_up` event ever on a day, the share that had a `purchase`" in conversion


def test_explain_says_is_set_false_in_plain_words(project: Path) -> None:
    assert "where param `lead_source` is not set (missing, empty or `(not set)`)" in _explain("leads_without_source")


def test_data_api_request_for_is_set_leaves_out_not_set_and_empty(project: Path) -> None:
    plan = compile_plan(load_catalog([project / "kpis"]).catalog)
    api = api_plan_to_dict(compile_api_plan(plan))
    kpis = api["kpis"]
    assert not kpis["new_customers"]["expressible"] and not kpis["new_signup_purchase_7d"]["expressible"]
    requests = {rid: r for batch, ids in zip(api["batches"], api["requestIds"], strict=True)
                for r, rid in zip(batch["requests"], ids, strict=True)}
    for kid, negated in (("purchases_with_id", True), ("leads_without_source", False)):
        assert kpis[kid]["expressible"]
        request = requests[kpis[kid]["numerator"][""]["request"]]
        parts = request["dimensionFilter"]["andGroup"]["expressions"]
        missing = next(p for p in parts if "notExpression" in p or "orGroup" in p)
        group = missing["notExpression"]["orGroup"] if negated else missing["orGroup"]
        values = [e["filter"]["stringFilter"]["value"] for e in group["expressions"]]
        assert values == ["(not set)", ""]
        assert {e["filter"]["fieldName"] for e in group["expressions"]} == {
            "customEvent:transaction_id" if negated else "customEvent:lead_source"}

