"""Any file gets a located, readable error and exit 1: never a traceback, never code execution, bounded time."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from generator.parse import loading
from generator.parse.loading import KpiFileError, parse_document

NESTED = b"version: 1\nkpi: " + b"[" * 20_000 + b"]" * 20_000 + b"\n"
ALIAS_BOMB = b"version: 1\na: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + b"".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 10)}]\n".encode() for p, n in zip("abcdefgh", "bcdefghi", strict=True))

# (case, file content, expected code, expected line)
BAD_INPUTS = [
    ("invalid_yaml", b"version: 1\nkpi: orders\ntitle: Revenue: total: x\n", "KB105", 3),
    ("tab_indent", b"version: 1\nmeasure:\n\tcount: {event: purchase}\n", "KB104", 3),
    ("unclosed_bracket", b"version: 1\nbreakdowns: [channel, device_category\ntitle: x\n", "KB105", 2),
    ("empty", b"", "KB103", 1),
    ("only_whitespace", b"   \n\n  \n", "KB103", 1),
    ("not_a_mapping", b"- a\n- b\n", "KB107", 1),
    ("just_text", b"hello world\n", "KB107", 1),
    ("binary", bytes(range(256)) * 4, "KB102", 1),
    ("non_utf8", b"version: 1\ntitle: Caf\xe9\n", "KB102", 2),
    ("nul_byte", b"version: 1\nkpi: a\x00b\n", "KB102", 2),
    ("duplicate_keys", b"version: 1\nkpi: a\nkpi: b\n", "KB109", 3),
    ("duplicate_keys_in_flow", b"version: 1\nthresholds: {warn_below: 1, warn_below: 2}\n", "KB109", 2),
    ("five_mb_line", b"version: 1\ntitle: " + b"x" * 5_000_000 + b"\n", "KB101", 1),
    ("deep_nesting", NESTED, "KB106", 2),
    ("alias_bomb", ALIAS_BOMB, "KB106", 6),
    ("python_tag", b"version: 1\nkpi: !!python/object/apply:os.system ['touch /tmp/kpibridge-owned']\n", "KB108", 2),
    ("custom_tag", b"version: 1\nkpi: !include other.yaml\n", "KB108", 2),
    ("two_documents", b"version: 1\n---\nversion: 1\n", "KB105", 2),
    ("undefined_alias", b"version: 1\nkpi: *nowhere\n", "KB105", 2),
    # half of a JSON-style escape of a character beyond U+FFFF: no character at all (RE2 and files cannot hold it)
    ("lone_surrogate_escape", b'version: 1\ntitle: "Sales \\ud83d"\n', "KB102", 2),
    ("lone_surrogate_key", b'version: 1\n"\\udc00x": 1\n', "KB102", 2),
]


@pytest.fixture(params=[True, False], ids=["libyaml", "ruamel"])
def yaml_path(request, monkeypatch):
    """Run each case on the fast path and on ruamel alone: both must answer the same."""
    if not request.param:
        monkeypatch.setattr(loading, "_LibyamlParser", None)
    elif loading._LibyamlParser is None:
        pytest.skip("PyYAML's libyaml binding is not installed")
    return request.param


@pytest.mark.parametrize("case, content, code, line", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_parse_document_refuses_with_a_located_issue(yaml_path, case, content, code, line) -> None:
    start = time.perf_counter()
    with pytest.raises(KpiFileError) as err:
        parse_document(content, f"kpis/{case}.yaml")
    assert time.perf_counter() - start < 5
    issue = err.value.issue
    assert (issue.code, issue.location.line) == (code, line), issue
    assert issue.location.file == f"kpis/{case}.yaml"
    assert issue.message and issue.hint
    assert not Path("/tmp/kpibridge-owned").exists()


@pytest.mark.parametrize("case, content, code, line", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_kpi_validate_reports_bad_input_and_exits_1(app, tmp_path, case, content, code, line) -> None:
    bad = tmp_path / f"{case}.yaml"
    bad.write_bytes(content)
    start = time.perf_counter()
    result = CliRunner().invoke(app, ["validate", str(bad)])
    assert time.perf_counter() - start < 10
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"{case}.yaml:{line}:" in result.stdout
    assert f"  {code}  " in result.stdout
    assert "Traceback" not in result.output


def test_one_broken_file_hides_nothing_else(app, examples) -> None:
    examples.write("broken.yaml", "version: 1\nkpi: [\n")
    examples.set_top("leads/leads.yaml", "target", "1")
    examples.set_top("leads/leads.yaml", "thresholds", "{warn_below: 2, critical_below: 0}")
    codes = sorted(i.code for i in examples.report().sorted())
    assert codes == ["KB105", "KB605"]


_MAIN = ("import sys, typer\nfrom generator.cli import commands\napp = typer.Typer()\ncommands.register(app)\n"
         "sys.argv = ['kpi', *sys.argv[1:]]\napp()\n")


@pytest.mark.parametrize("case", ["deep_nesting", "alias_bomb", "python_tag", "binary"])
def test_a_real_process_stays_calm(tmp_path, case) -> None:
    content = next(c for name, c, _code, _line in BAD_INPUTS if name == case)
    bad = tmp_path / f"{case}.yaml"
    bad.write_bytes(content)
    proc = subprocess.run([sys.executable, "-c", _MAIN, "validate", str(bad)], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == ""
    assert f"{case}.yaml:" in proc.stdout
    assert not Path("/tmp/kpibridge-owned").exists()


def test_a_character_escaped_in_two_halves_as_json_writes_it_reads_as_that_character(yaml_path) -> None:
    """YAML reads each `\\u` escape alone, JSON joins a pair into the one character: KPI files read as JSON does
    (a pattern of it went to RE2 in halves and failed with an internal error, KB900)."""
    doc = parse_document(b'version: 1\ntitle: "Sales \\ud83d\\ude00"\nflow: {"\\ud800\\udc00": "x"}\n', "kpis/a.yaml")
    assert doc.data["title"] == "Sales \U0001F600"
    assert doc.data["flow"] == {"\U00010000": "x"}
