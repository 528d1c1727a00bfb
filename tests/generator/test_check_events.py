"""`kpi check-events`: every violation class with its line number, valid samples pass, bad NDJSON is
reported (never a traceback), exit codes and the JSON format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from generator.cli import commands as generator_cli
from generator.rules.validate import validate_paths
from generator.spec.check_events import CheckReport, check_events, format_text
from generator.spec.model import build_spec

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "events"
KPIS = FIXTURES / "kpis"
runner = CliRunner()


def kpi_app() -> typer.Typer:
    app = typer.Typer()
    generator_cli.register(app)
    return app


def check(lines: list[str | bytes], kpis: Path = KPIS) -> CheckReport:
    validated = validate_paths([kpis])
    assert not validated.report.errors
    return check_events(lines, "events.ndjson", build_spec(validated.catalog), validated.catalog)


def test_valid_samples_pass() -> None:
    report = check((FIXTURES / "valid.ndjson").read_text().split("\n"))
    assert report.ok, format_text(report)
    assert report.valid == len(report.events) == 7
    assert [why for _line, why in report.skipped] == ["ecommerce clear", "Tag Manager's own `gtm.js` event"]
    assert {r.source for r in report.events} == {"measurement_protocol", "datalayer", "gtag"}


def test_each_violation_class_is_reported_on_its_line() -> None:
    expected = {int(k): v for k, v in json.loads((FIXTURES / "invalid.expected.json").read_text()).items()}
    report = check((FIXTURES / "invalid.ndjson").read_text().split("\n"))
    by_line: dict[int, set[str]] = {}
    for r in report.results:
        by_line.setdefault(r.line, set()).update(p.kind for p in r.problems if p.level == "error")
    assert set(by_line) == set(expected)
    for line, kind in expected.items():
        assert kind in by_line[line], (line, kind, by_line[line])
    assert report.valid == 0 and not report.ok


def test_messages_say_what_is_wrong_and_how() -> None:
    report = check((FIXTURES / "invalid.ndjson").read_text().split("\n"))
    text = "\n".join(format_text(report))
    assert "events.ndjson:1 (event 1)  signup [Measurement Protocol]" in text
    assert "unknown event `signup`" in text and "Did you mean `sign_up`?" in text
    assert "events.ndjson:2  sign_up [dataLayer]\n    ✗ missing required param `method`." in text
    assert '`value` should be a number, but is the string "59.90".' in text
    assert "`payment_type` is the string \"bitcoin\"; allowed: card, paypal, invoice." in text
    assert "events.ndjson:9\n    ✗ not valid JSON: Expecting ',' delimiter" in text
    assert "(events 1–26)" in text, "one payload's identical problems are shown once"
    assert "push its params under `ecommerce`" in text
    assert text.endswith("✗ 42 events checked: 0 valid, 42 invalid; 2 lines could not be read.")


@pytest.mark.parametrize("line, kind", [
    (b"\xff\xfe{}", "invalid_json"),
    ("[1, 2]", "not_an_event"),
    ('{"events": {"name": "sign_up"}}', "not_an_event"),
    ('{"events": []}', "not_an_event"),
    ("[" * 100_000, "invalid_json"),
    ('{"client_id": "1", "events": ["sign_up"]}', "not_an_event"),
    ('{"name": "sign_up", "params": [1]}', "wrong_type"),
    ('{"name": 7}', "bad_name"),
])
def test_bad_lines_become_problems_never_exceptions(line: str | bytes, kind: str) -> None:
    report = check([line])
    assert [p.kind for r in report.results for p in r.problems][0] == kind
    assert not report.ok


def test_datalayer_pushes_that_are_not_events_are_skipped() -> None:
    report = check(['{"user_type": "member"}', '{"ecommerce": null}', "", "   "])
    assert report.ok and not report.events and len(report.skipped) == 2


def test_unknown_params_are_warnings_not_violations() -> None:
    report = check(['{"event": "sign_up", "method": "email", "methd": "x"}'])
    [result] = report.events
    assert result.valid
    [warning] = result.problems
    assert warning.level == "warning" and "Did you mean `method`?" in warning.message


def test_snippet_placeholders_of_the_example_kpis_pass(example_kpis_dir: Path) -> None:
    validated = validate_paths([example_kpis_dir])
    spec = build_spec(validated.catalog)
    lines = []
    for e in spec.to_implement:
        params = {p.name: p.placeholder for p in e.params}
        lines.append(json.dumps({"client_id": "1.2", "events": [{"name": e.name, "params": params}]}))
        lines.append(json.dumps({"event": e.name, "ecommerce": params} if e.ecommerce else {"event": e.name, **params}))
    report = check_events(lines, "x", spec, validated.catalog)
    assert report.ok, format_text(report)


def test_cli_exit_codes_and_formats(tmp_path: Path) -> None:
    ok = runner.invoke(kpi_app(), ["check-events", str(FIXTURES / "valid.ndjson"), "--kpis", str(KPIS)])
    assert ok.exit_code == 0 and "✓ 7 events checked: 7 valid, 0 invalid" in ok.output
    bad = runner.invoke(kpi_app(), ["check-events", str(FIXTURES / "invalid.ndjson"), "--kpis", str(KPIS)])
    assert bad.exit_code == 1 and "invalid.ndjson:3" in bad.output
    as_json = runner.invoke(kpi_app(), ["check-events", str(FIXTURES / "invalid.ndjson"), "--kpis", str(KPIS),
                                        "--format", "json"])
    assert as_json.exit_code == 1
    data = json.loads(as_json.output)
    assert (data["valid"], data["invalid"], data["unreadable_lines"]) == (0, 42, 2)
    assert data["results"][0]["problems"][0]["kind"] == "unknown_event"
    missing = runner.invoke(kpi_app(), ["check-events", str(tmp_path / "nope.ndjson"), "--kpis", str(KPIS)])
    assert missing.exit_code == 2 and "Cannot read" in missing.output and "Traceback" not in missing.output
    stdin = runner.invoke(kpi_app(), ["check-events", "-", "--kpis", str(KPIS)],
                          input='{"event": "sign_up", "method": "email"}\n')
    assert stdin.exit_code == 0, stdin.output


def test_cli_refuses_kpi_files_with_errors(tmp_path: Path) -> None:
    (tmp_path / "kpis").mkdir()
    (tmp_path / "kpis" / "broken.yaml").write_text("version: 1\nkpi: broken\n")
    done = runner.invoke(kpi_app(), ["check-events", str(FIXTURES / "valid.ndjson"), "--kpis", str(tmp_path / "kpis")])
    assert done.exit_code == 2 and "kpi validate" in done.output


def test_the_readme_example_is_real(repo_root: Path, example_kpis_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    block = readme.split("$ echo '", 1)[1].split("\n```", 1)[0]
    payload, shown = block.split("' | kpi check-events -\n", 1)
    monkeypatch.chdir(example_kpis_dir.parent)
    done = runner.invoke(kpi_app(), ["check-events", "-"], input=payload + "\n")
    assert done.exit_code == 1
    assert done.output.strip() == shown.strip()
