"""Live validation: the unsaved texts checked by `kpi validate`'s own loader and rules, nothing re-implemented."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from generator.issues import Issue, Level
from generator.rules.validate import Validated, validate_paths

from .workspace import Workspace


@dataclass
class Checked:
    """The whole KPI folder as it would be after saving: catalog, report, and the issues per file."""

    validated: Validated
    workspace: Workspace

    def issues_in(self, path: Path) -> list[Issue]:
        shown = self.workspace.display(path)
        return [i for i in self.validated.report.sorted() if i.location.file == shown]

    def errors_in(self, path: Path) -> list[Issue]:
        return [i for i in self.issues_in(path) if i.level is Level.ERROR]


def check(workspace: Workspace, texts: Mapping[Path, str] | None = None) -> Checked:
    """`kpi validate` on the KPI folder, with `texts` (unsaved contents by path) in place of the disk."""
    raw = {workspace.inside(p): t.encode("utf-8") for p, t in (texts or {}).items()}
    return Checked(validate_paths([workspace.root], relative_to=workspace.root.parent, texts=raw), workspace)


def issue_text(issue: Issue) -> str:
    """The same words `kpi validate` prints: code, message and the hint (with its "did you mean")."""
    where = f" ({issue.location.key_path})" if issue.location.key_path else ""
    hint = f" {issue.hint}" if issue.hint else ""
    return f"{issue.code}{where}: {issue.message}{hint}"
