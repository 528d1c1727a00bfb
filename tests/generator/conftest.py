"""Helpers for the generator's tests: the example catalog in a temp folder, one mutation, exactly one issue."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import typer

from generator.cli import commands as generator_cli
from generator.issues import Issue, Report
from generator.rules.validate import validate_paths

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "kpis"
FIXTURES = REPO / "tests" / "fixtures" / "invalid"


def kpi_app() -> typer.Typer:
    """The generator's commands on their own `kpi` app (what kpibridge.cli composes)."""
    app = typer.Typer(name="kpi", add_completion=False)
    generator_cli.register(app)
    return app


def validate(folder: Path) -> Report:
    return validate_paths([folder], relative_to=folder).report


class Examples:
    """A copy of kpis/ to break one thing in."""

    def __init__(self, root: Path):
        self.root = root

    def path(self, rel: str) -> Path:
        return self.root / rel

    def replace(self, rel: str, old: str, new: str, count: int = 1) -> Examples:
        """Replace `old` (which must occur) by `new` in one file."""
        file = self.path(rel)
        text = file.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {rel}"
        file.write_text(text.replace(old, new, count), encoding="utf-8")
        return self

    def set_top(self, rel: str, key: str, value: str) -> Examples:
        """Set a top-level key (its line and any indented lines under it), whatever the examples hold now."""
        def change(text: str) -> str:
            block = re.compile(rf"^{re.escape(key)}:[^\n]*\n(?:[ ][^\n]*\n)*", re.MULTILINE)
            assert block.search(text), f"no top-level `{key}:` in {rel}"
            return block.sub(lambda _m: f"{key}: {value}\n", text, count=1)
        return self.edit(rel, change)

    def drop_top(self, rel: str, key: str) -> Examples:
        return self.set_top(rel, key, "\x00").edit(rel, lambda t: re.sub(rf"^{re.escape(key)}: \x00\n", "", t, flags=re.MULTILINE))

    def line_of(self, rel: str, key: str) -> int:
        lines = self.path(rel).read_text(encoding="utf-8").splitlines()
        return next(i for i, line in enumerate(lines, 1) if line.startswith(f"{key}:"))

    def edit(self, rel: str, change: Callable[[str], str]) -> Examples:
        file = self.path(rel)
        file.write_text(change(file.read_text(encoding="utf-8")), encoding="utf-8")
        return self

    def write(self, rel: str, text: str) -> Examples:
        file = self.path(rel)
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text, encoding="utf-8")
        return self

    def report(self) -> Report:
        return validate(self.root)

    def only_issue(self, code: str) -> Issue:
        """Assert the mutation caused exactly one issue, with this code; return it."""
        issues = self.report().sorted()
        shown = "\n".join(f"{i.location} {i.code} {i.message}" for i in issues)
        assert [i.code for i in issues] == [code], f"expected exactly one {code}, got:\n{shown}"
        return issues[0]


@pytest.fixture
def app() -> typer.Typer:
    return kpi_app()


@pytest.fixture
def examples(tmp_path: Path) -> Examples:
    """kpis/ copied into a temp folder: valid, with no issue at all."""
    root = tmp_path / "kpis"
    shutil.copytree(EXAMPLES, root, ignore=shutil.ignore_patterns("*.md", "*.json"))
    return Examples(root)
