"""Where things live: the KPI folder, the warehouse file, the project config (kpibridge.toml).

The warehouse owns its location (warehouse/location.py) and the project's settings (warehouse/project_config.py);
the shell re-exports them here, so no stage imports the shell.
"""

from __future__ import annotations

from pathlib import Path

from warehouse.location import DEFAULT_DB, resolve_db
from warehouse.project_config import (
    CONFIG_FILE,
    DEFAULT_KPIS_DIR,
    ProjectConfig,
    load_project_config,
    project_section,
)

__all__ = ["CONFIG_FILE", "DEFAULT_BUILD_DIR", "DEFAULT_DB", "DEFAULT_KPIS_DIR", "ProjectConfig",
           "load_project_config", "project_section", "resolve_db"]

DEFAULT_BUILD_DIR = Path("build")
