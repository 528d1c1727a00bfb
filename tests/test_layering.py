"""The pipeline's layering: generator/ is pure, dashboards/ reads the warehouse only."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def imported_roots(package: str) -> set[tuple[str, str]]:
    found = set()
    for path in (REPO / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found |= {(str(path.relative_to(REPO)), a.name.split(".")[0]) for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add((str(path.relative_to(REPO)), node.module.split(".")[0]))
    return found


def test_generator_imports_no_database_ui_or_later_stage():
    banned = {"duckdb", "streamlit", "warehouse", "dashboards", "editor", "kpibridge", "ga4admin"}
    offenders = sorted((f, m) for f, m in imported_roots("generator") if m in banned)
    assert offenders == []


def test_dashboards_never_compile_kpis():
    offenders = sorted((f, m) for f, m in imported_roots("dashboards") if m in {"generator", "editor"})
    assert offenders == []


def test_only_the_shell_starts_the_editor():
    """`kpi edit` writes KPI files: no other stage (the read-only dashboard least of all) may reach it."""
    for package in ("generator", "warehouse", "dashboards"):
        assert sorted((f, m) for f, m in imported_roots(package) if m == "editor") == []
def test_ga4admin_touches_neither_the_database_nor_the_ui():
    """`kpi apply` talks to GA4 only: no DuckDB, no Streamlit, and no warehouse module beyond the shared
    Google client helpers (credentials, property ids) in warehouse/sources/."""
    roots = imported_roots("ga4admin")
    assert sorted((f, m) for f, m in roots if m in {"duckdb", "streamlit", "dashboards"}) == []
    for path in (REPO / "ga4admin").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("warehouse"):
                assert node.module.startswith("warehouse.sources.ga4_"), (path, node.module)
