"""Every text the user typed is shown as data: Markdown characters escaped, no HTML ever."""

from __future__ import annotations

import re

import streamlit as st
from generator.issues import Issue, Level

from .checking import issue_text

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$=^])")


def plain(text: object) -> str:
    """Text safe to hand to a Streamlit call that renders Markdown: shown exactly as typed.

    Names in backticks (as `kpi validate` writes them) stay code spans: inside one, Markdown does nothing,
    so no link, image or HTML can come from it; everything else has its Markdown characters escaped.
    """
    parts = str(text).split("`")
    if len(parts) % 2 == 0 or any("\n" in p for p in parts[1::2]):
        return _escape(str(text))
    return "".join(_escape(p) if i % 2 == 0 else f"`{p}`" for i, p in enumerate(parts))


def _escape(text: str) -> str:
    return _MARKDOWN.sub(r"\\\1", text).replace("\n", "  \n")


class IssueBoard:
    """The issues of one file, each shown once, next to the field its key path points at."""

    def __init__(self, issues: list[Issue]):
        self.issues = issues
        self.shown: set[int] = set()

    def show(self, *prefixes: str) -> None:
        for n, issue in enumerate(self.issues):
            if n in self.shown or not any(_under(issue.location.key_path, p) for p in prefixes):
                continue
            self.shown.add(n)
            show_issue(issue)

    def rest(self) -> None:
        """Issues no field claimed (e.g. about the file as a whole)."""
        self.show("")


def _under(key_path: str, prefix: str) -> bool:
    return prefix == "" or key_path == prefix or key_path.startswith((prefix + ".", prefix + "["))


def show_issue(issue: Issue) -> None:
    text = plain(issue_text(issue))
    if issue.level is Level.ERROR:
        st.error(text, icon=":material/error:")
    else:
        st.warning(text, icon=":material/warning:")
