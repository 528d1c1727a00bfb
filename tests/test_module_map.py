"""docs/architecture.md's module map matches the tree: every generator module is listed under its stage, and
every path the map names exists."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "architecture.md"


def module_map() -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("## Module map")
    return text[start:text.index("\n## ", start + 1)]


def test_every_generator_module_is_in_the_map():
    listed = set(re.findall(r"`(generator/[\w/]+\.py)`", module_map()))
    in_tree = {str(p.relative_to(REPO)) for p in (REPO / "generator").rglob("*.py") if p.name != "__init__.py"}
    assert sorted(in_tree - listed) == [], "modules missing from docs/architecture.md's module map"
    assert sorted(listed - in_tree) == [], "the module map names modules that do not exist"


def test_every_folder_in_the_map_exists():
    folders = re.findall(r"^\| [^|]+ \| `([\w/]+/)` \|", module_map(), flags=re.M)
    assert len(folders) >= 10
    assert [f for f in folders if not (REPO / f).is_dir()] == []


def test_generator_top_level_holds_only_the_entry_point():
    """The stages live in their folders; the top of generator/ keeps the entry point and the shared Issue type."""
    top = sorted(p.name for p in (REPO / "generator").glob("*.py"))
    assert top == ["__init__.py", "compile.py", "issues.py"]


def test_every_module_path_the_docs_name_exists():
    """A move (issue 11) or a deletion leaves no doc pointing at a file that is not there."""
    docs = [REPO / "README.md", REPO / "kpis" / "README.md", *(REPO / "docs").glob("*.md")]
    pattern = r"`((?:generator|warehouse|dashboards|editor|ga4admin|kpibridge|tests|bench)/[\w/.-]*?(?:\.py|/))`"
    named = {(doc.name, path) for doc in docs for path in re.findall(pattern, doc.read_text(encoding="utf-8"))}
    assert len(named) > 50
    assert sorted((doc, path) for doc, path in named if not (REPO / path).exists()) == []


def test_modules_stay_small():
    """Issue 11's size targets: the median module under 150 lines, none over 500 (split by concern, not by count)."""
    packages = ("generator", "warehouse", "dashboards", "editor", "ga4admin", "kpibridge")
    sizes = {str(p.relative_to(REPO)): len(p.read_text(encoding="utf-8").splitlines())
             for package in packages for p in (REPO / package).rglob("*.py")}
    ordered = sorted(sizes.values())
    assert ordered[len(ordered) // 2] < 150
    assert sorted(path for path, n in sizes.items() if n > 500) == []
