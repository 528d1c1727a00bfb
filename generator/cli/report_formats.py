"""A validation Report rendered for people (text), machines (json), GitHub (annotations) and SARIF."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape

from ..issues import Level, Report

_COLOURS = {Level.ERROR: "bold red", Level.WARNING: "yellow"}


def summary_line(report: Report) -> str:
    e, w = len(report.errors), len(report.warnings)
    files = f"{report.files_checked} file{'s' if report.files_checked != 1 else ''}"
    if not e and not w:
        return f"✓ {files} checked: no problems."
    return (f"{'✗' if e else '!'} {files} checked: {e} error{'s' if e != 1 else ''}, "
            f"{w} warning{'s' if w != 1 else ''}.")


def print_text(report: Report, console: Console) -> None:
    """`file:line:col  CODE  message`, then the hint, then a summary line."""
    for issue in report.sorted():
        style = _COLOURS[issue.level]
        console.print(f"[bold]{escape(str(issue.location))}[/]  [{style}]{issue.code}[/]  {escape(issue.message)}",
                      highlight=False, soft_wrap=True)
        if issue.hint:
            console.print(f"    [dim]→ {escape(issue.hint)}[/]", highlight=False, soft_wrap=True)
    style = "red" if report.errors else ("yellow" if report.warnings else "green")
    console.print(f"[{style}]{summary_line(report)}[/]", highlight=False)


def to_json(report: Report) -> str:
    return json.dumps({
        "files_checked": report.files_checked,
        "errors": len(report.errors),
        "warnings": len(report.warnings),
        "issues": [i.to_dict() for i in report.sorted()],
    }, indent=2, ensure_ascii=False)


def _gh_escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def to_github(report: Report) -> str:
    """GitHub Actions workflow commands: one annotation per issue on the pull request's diff."""
    lines = []
    for i in report.sorted():
        kind = "error" if i.level is Level.ERROR else "warning"
        props = (f"file={_gh_escape(i.location.file, True)},line={i.location.line},col={i.location.column},"
                 f"title={_gh_escape(i.code, True)}")
        body = i.message + (f" → {i.hint}" if i.hint else "")
        lines.append(f"::{kind} {props}::{_gh_escape(body)}")
    lines.append(summary_line(report))
    return "\n".join(lines)


def to_sarif(report: Report, rule_titles: dict[str, str]) -> str:
    """SARIF 2.1.0, for code-scanning uploads and pull-request annotations."""
    issues = report.sorted()
    codes = sorted({i.code for i in issues} | set(rule_titles))
    rules = [{"id": c, "shortDescription": {"text": rule_titles.get(c, c)}} for c in codes]
    results: list[dict[str, Any]] = [{
        "ruleId": i.code,
        "ruleIndex": codes.index(i.code),
        "level": "error" if i.level is Level.ERROR else "warning",
        "message": {"text": i.message + (f" Fix: {i.hint}" if i.hint else "")},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": i.location.file},
            "region": {"startLine": i.location.line, "startColumn": i.location.column},
        }}],
    } for i in issues]
    return json.dumps({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "kpi validate", "informationUri": "https://github.com/kpibridge/kpibridge",
                                      "rules": rules}}, "results": results}],
    }, indent=2, ensure_ascii=False)
