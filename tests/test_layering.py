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
    Google client helpers (credentials, property ids) in warehouse/sources/, and the project's settings
    (kpibridge.toml's `[ga4]` property) from warehouse/project_config.py."""
    roots = imported_roots("ga4admin")
    assert sorted((f, m) for f, m in roots if m in {"duckdb", "streamlit", "dashboards"}) == []
    for path in (REPO / "ga4admin").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("warehouse"):
                assert (node.module.startswith("warehouse.sources.ga4_")
                        or node.module == "warehouse.project_config"), (path, node.module)


def imported_modules(package: str) -> set[tuple[str, str]]:
    """(file, absolute module) for every import in a package, the lazy ones inside functions included."""
    found = set()
    for path in (REPO / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {(str(path.relative_to(REPO)), a.name) for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add((str(path.relative_to(REPO)), node.module))
    return found


def test_stages_never_import_the_shell():
    """kpibridge/ (the CLI shell) wires the stages together; a stage that imported it would depend on every
    other stage. Where a stage needs the warehouse's location or the project's settings, it reads them from
    warehouse/location.py and warehouse/project_config.py, which the shell re-exports."""
    for package in ("generator", "warehouse", "dashboards", "editor", "ga4admin"):
        assert sorted((f, m) for f, m in imported_modules(package) if m.split(".")[0] == "kpibridge") == []


def test_the_warehouse_never_imports_the_dashboard():
    """Data flows one way: the warehouse feeds the dashboard. What both need (what a dashboard period is) lives
    in the warehouse (`warehouse/periods.py`), and the dashboard reads it."""
    assert sorted((f, m) for f, m in imported_roots("warehouse") if m == "dashboards") == []


# What the dashboard may use of the warehouse: the serving file's contract, the refresh-pending marker, and
# two pure helpers that read rows it already fetched; its commands also read the project's settings.
DASHBOARD_READS_OF_THE_WAREHOUSE = {
    "warehouse.serving_contract",
    "warehouse.pending",
    "warehouse.event_versions",
    "warehouse.attribution_summary",
    "warehouse.project_config",
    "warehouse.periods",  # what a dashboard period is: the warehouse counts each one's exact values
}


def test_dashboards_read_the_warehouse_through_its_serving_contract():
    used = {(f, m) for f, m in imported_modules("dashboards") if m.split(".")[0] == "warehouse"}
    assert sorted((f, m) for f, m in used if m not in DASHBOARD_READS_OF_THE_WAREHOUSE) == []
    config_users = {f for f, m in used if m == "warehouse.project_config"}
    assert config_users <= {"dashboards/alerts/cli.py"}  # only a command reads kpibridge.toml
