"""tests/fixtures/invalid/<rule>__<case>.yaml (or a folder of that name): each names its expected issues.

The first line of a file says what it must produce: `# expect: KB301 line 9`. The run must report exactly
the expected issues plus no other error; warnings are ignored unless expected (each standalone KPI
fixture, for one, is not named after its id).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from generator.rules import ALL_RULES
from generator.rules.validate import validate_paths

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "invalid"
EXPECT = re.compile(r"^# expect: (KB\d{3}) line (\d+)")


def _cases() -> list[Path]:
    return sorted(p for p in FIXTURES.iterdir() if "__" in p.name and not p.name.startswith("_"))


def _expected(case: Path) -> set[tuple[str, str, int]]:
    files = sorted(case.rglob("*.yaml")) if case.is_dir() else [case]
    out = set()
    for file in files:
        first = file.read_bytes().split(b"\n", 1)[0].decode("ascii", "replace")
        if m := EXPECT.match(first):
            out.add((file.relative_to(case if case.is_dir() else case.parent).as_posix(), m[1], int(m[2])))
    return out


@pytest.mark.parametrize("case", _cases(), ids=lambda p: p.name)
def test_fixture_reports_exactly_what_it_expects(case: Path) -> None:
    expected = _expected(case)
    assert expected, f"{case.name}: the first line must say `# expect: KBnnn line N`"
    base = case if case.is_dir() else case.parent
    report = validate_paths([case], relative_to=base).report
    codes = {code for _f, code, _l in expected}
    got = {(i.location.file, i.code, i.location.line) for i in report.sorted()
           if i.level.value == "error" or i.code in codes}
    assert got == expected, "\n".join(f"{i.location} {i.code} {i.message}" for i in report.sorted())


def test_every_rule_code_has_a_fixture() -> None:
    covered = {code for case in _cases() for _f, code, _l in _expected(case)}
    emitted = {r.code for r in ALL_RULES} | {"KB303", "KB304", "KB309"}
    assert emitted - covered == set()
