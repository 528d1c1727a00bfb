"""The rule protocol: one concern per class, a stable code, a level, and a hint."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import ClassVar

from ..issues import Issue, Level, SourceLocation
from ..parse.catalog import KpiCatalog


class Rule:
    """Subclass, set `code`, `level`, `title`, and implement `check`."""

    code: ClassVar[str]
    level: ClassVar[Level] = Level.ERROR
    title: ClassVar[str]
    """What the rule checks, in a few words (shown in SARIF and the docs)."""

    def check(self, catalog: KpiCatalog) -> Iterable[Issue]:
        raise NotImplementedError

    def issue(self, message: str, location: SourceLocation, hint: str = "") -> Issue:
        return Issue(self.code, self.level, message, location, hint)


def run_rules(rules: Iterable[Rule], catalog: KpiCatalog) -> Iterator[Issue]:
    """Run every rule; a crash inside one becomes an issue saying what was being checked."""
    for rule in rules:
        try:
            yield from rule.check(catalog)
        except Exception as exc:  # noqa: BLE001 - one broken rule must not hide the others
            yield Issue(
                "KB900", Level.ERROR,
                f"internal error while checking {rule.title} ({rule.code}): {type(exc).__name__}: {exc}.",
                SourceLocation("(kpi validate)"),
                "This is a bug in KPI Bridge, not in your files; please report it with the files.")
