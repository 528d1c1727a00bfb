"""The loader: positions for every key, YAML 1.2 values, and the fast path giving exactly what ruamel gives."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from generator.parse import loading
from generator.parse.loading import KpiFileError, parse_document

REPO = Path(__file__).resolve().parents[2]
ALL_EXAMPLES = sorted((REPO / "kpis").rglob("*.yaml")) + [REPO / "generator" / "ga4" / "builtin_events.yaml"]


def parse_both(raw: bytes, name: str = "x.yaml", monkeypatch=None):
    """(fast path result, ruamel-only result); each a Document or the KpiFileError's issue."""
    def attempt():
        try:
            return parse_document(raw, name)
        except KpiFileError as err:
            return err.issue

    fast = attempt()
    saved = loading._LibyamlParser
    loading._LibyamlParser = None
    try:
        slow = attempt()
    finally:
        loading._LibyamlParser = saved
    return fast, slow


@pytest.mark.parametrize("path", ALL_EXAMPLES, ids=lambda p: p.name)
def test_fast_path_and_ruamel_agree_on_every_example(path: Path) -> None:
    fast, slow = parse_both(path.read_bytes(), path.name)
    assert fast == slow


@pytest.mark.parametrize("path", ALL_EXAMPLES, ids=lambda p: p.name)
def test_every_shipped_file_is_read_by_the_fast_path(path: Path) -> None:
    """Every command reads the built-in catalog and the example KPIs: through ruamel's pure-Python composer (what
    an anchor or alias falls back to) the built-in catalog alone cost 0.2 CPU s a command."""
    assert loading._compose_fast(path.read_text(encoding="utf-8-sig")) is not None


def test_every_key_has_its_line_and_column() -> None:
    doc = parse_document((REPO / "kpis/conversion/session_conversion_rate.yaml").read_bytes(), "s.yaml")
    assert doc.positions[("kpi",)] == (3, 1)
    assert doc.positions[("measure", "ratio", "numerator")] == (11, 5)
    assert doc.positions[("measure", "ratio", "numerator", "sessions_with")] == (11, 17)
    assert doc.positions[("target", 1, "value")] == (17, 24)
    loc = doc.locate(("target", 1, "value"))
    assert (str(loc), loc.key_path) == ("s.yaml:17:24", "target[1].value")


def test_locate_falls_back_to_the_deepest_known_key() -> None:
    doc = parse_document(b"version: 1\nmeasure:\n  count: {event: purchase}\n", "m.yaml")
    assert str(doc.locate(("measure", "count", "where", 0))) == "m.yaml:3:3"


@pytest.mark.parametrize("text, value", [
    ("x: no", "no"),  # YAML 1.2: not a boolean (the "Norway problem")
    ("x: NO", "NO"),
    ("x: yes", "yes"),
    ("x: true", True),
    ("x: 0.030", 0.03),
    ("x: 1_000", 1000),
    ("x: 010", 10),
    ("x: 0x1F", 31),
    ("x: 2026-04-01", dt.date(2026, 4, 1)),
    ("x: '2026-04-01'", "2026-04-01"),
    ("x: 2026-04-01T10:00:00", "2026-04-01T10:00:00"),
    ("x: ~", None),
    ("x: .inf", float("inf")),
    ('x: "42"', "42"),
    ("x: 1e3", 1000.0),
    ("x: !!str 42", "42"),
])
def test_scalars_follow_yaml_1_2(text: str, value: object) -> None:
    fast, slow = parse_both(text.encode())
    assert fast == slow
    assert fast.data["x"] == value
    assert type(fast.data["x"]) is type(value)


def test_bom_and_crlf_are_fine() -> None:
    fast, slow = parse_both(b"\xef\xbb\xbfversion: 1\r\nkpi: orders\r\n")
    assert fast == slow
    assert fast.data == {"version": 1, "kpi": "orders"} and fast.positions[("kpi",)] == (2, 1)


def test_aliases_expand_and_keep_the_anchor_position() -> None:
    fast, slow = parse_both(b"a: &x {k: 1}\nb: *x\n")
    assert fast == slow
    assert fast.data == {"a": {"k": 1}, "b": {"k": 1}}


def test_the_fast_path_declines_what_it_does_not_handle() -> None:
    for text in ("%YAML 1.1\n---\nx: yes\n", "a: &x 1\nb: &x 2\nc: *x\n"):
        fast, slow = parse_both(text.encode())
        assert fast == slow
