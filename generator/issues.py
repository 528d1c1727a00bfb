"""User errors as data: an Issue says what is wrong, where, and how to fix it."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class SourceLocation:
    """A place in a KPI file: 1-based line and column, and the key path (`measure.ratio.numerator`)."""

    file: str
    line: int = 1
    column: int = 1
    key_path: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Issue:
    """One problem in the KPI files, with a stable code (`KB301`) and a hint on how to fix it."""

    code: str
    level: Level
    message: str
    location: SourceLocation
    hint: str = ""

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.location.file, self.location.line, self.location.column, self.code)

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "level": self.level.value,
            "message": self.message,
            "hint": self.hint,
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "key_path": self.location.key_path,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Issue:
        """The issue `to_dict` gave."""
        where = SourceLocation(str(data["file"]), int(str(data["line"])), int(str(data["column"])),
                               str(data["key_path"]))
        return cls(str(data["code"]), Level(str(data["level"])), str(data["message"]), where, str(data["hint"]))


@dataclass
class Report:
    """Every issue found across all files, sorted by place."""

    issues: list[Issue] = field(default_factory=list)
    files_checked: int = 0

    def extend(self, issues: Iterable[Issue]) -> None:
        self.issues.extend(issues)

    def sorted(self) -> list[Issue]:
        unique = {(i.code, i.location, i.message): i for i in self.issues}
        return sorted(unique.values(), key=lambda i: i.sort_key)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.level is Level.ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.level is Level.WARNING]

    def has_errors(self, strict: bool = False) -> bool:
        return bool(self.errors) or (strict and bool(self.warnings))


def suggest_closest(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The candidate closest to `word`, for "did you mean" (None when nothing is close)."""
    pool = sorted(set(candidates))
    lowered = {c.lower(): c for c in pool}
    if word.lower() in lowered and lowered[word.lower()] != word:
        return lowered[word.lower()]
    matches = difflib.get_close_matches(word, pool, n=1, cutoff=cutoff)
    if matches:
        return matches[0]
    matches = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=cutoff)
    return lowered[matches[0]] if matches else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """' Did you mean `x`?' or '' — ready to append to a message."""
    best = suggest_closest(word, candidates)
    return f" Did you mean `{best}`?" if best else ""


def one_of(choices: Sequence[str], limit: int = 12) -> str:
    """`a`, `b` or `c` — for listing allowed values in a hint."""
    shown = [f"`{c}`" for c in choices[:limit]]
    more = f" (and {len(choices) - limit} more)" if len(choices) > limit else ""
    if len(shown) == 1:
        return shown[0]
    return ", ".join(shown[:-1]) + f" or {shown[-1]}{more}"
