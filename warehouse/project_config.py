"""The project's settings: the KPI folder and kpibridge.toml beside it (`[ga4]`, `[bigquery]`, `[alerts]`).

Read by the warehouse's and the dashboard's commands; kpibridge/config.py re-exports it for the shell, so no
stage imports the shell.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_KPIS_DIR = Path("kpis")
CONFIG_FILE = "kpibridge.toml"


@dataclass(frozen=True)
class ProjectConfig:
    """Settings committed beside `kpis/` in kpibridge.toml, so CI and schedulers need no flags."""

    ga4_property: str | None = None
    ga4_endpoint: str | None = None
    bigquery: dict[str, object] = field(default_factory=dict)  # [bigquery]: read by warehouse.bigquery.settings
    path: Path | None = None  # the kpibridge.toml read, for messages


def load_project_config(kpis_dir: Path) -> ProjectConfig:
    """Read kpibridge.toml from the KPI folder's parent (or the KPI folder itself), if present."""
    for candidate in (kpis_dir.parent / CONFIG_FILE, kpis_dir / CONFIG_FILE):
        if candidate.is_file():
            data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            ga4 = data.get("ga4", {})
            prop = ga4.get("property")
            return ProjectConfig(
                ga4_property=str(prop) if prop is not None else None,
                ga4_endpoint=ga4.get("endpoint"),
                bigquery=dict(data.get("bigquery", {})),
                path=candidate,
            )
    return ProjectConfig()


def project_section(name: str, kpis_dir: Path = DEFAULT_KPIS_DIR) -> dict:
    """One `[name]` table of kpibridge.toml (beside the KPI folder), or {} when absent."""
    for candidate in (kpis_dir.parent / CONFIG_FILE, kpis_dir / CONFIG_FILE):
        if candidate.is_file():
            return dict(tomllib.loads(candidate.read_text(encoding="utf-8")).get(name, {}))
    return {}
