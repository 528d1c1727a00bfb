"""The README's CI and pre-commit recipes work as written: nothing that cannot be installed or checked out."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCS = [REPO / "README.md", REPO / "docs" / "kpi-validate-in-ci.md"]


def test_no_recipe_installs_kpibridge_from_pypi():
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        # `pip install kpibridge` installs nothing: the package is not published.
        assert not re.search(r"pip install kpibridge\b(?!\s*@)", text), doc
        assert "git+" in text, f"{doc.name} should say how to install from the git repository"


def test_pre_commit_rev_names_no_tag_that_does_not_exist():
    tags = set(subprocess.run(["git", "tag", "--list"], cwd=REPO, capture_output=True, text=True).stdout.split())
    for doc in DOCS:
        for rev in re.findall(r"^\s*rev:\s*(\S+)", doc.read_text(encoding="utf-8"), re.MULTILINE):
            assert rev in tags or rev.startswith("<") or rev == "main", f"{doc.name}: rev {rev} is not a tag"
