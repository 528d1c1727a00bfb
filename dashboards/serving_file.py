"""Where the dashboard's serving database is: names shared by the app and `kpi dashboard`.

Kept apart from data.py, which imports Streamlit's caches: importing those outside a running app logs
"No runtime found" warnings, and `kpi dashboard` must start quietly.
"""

from __future__ import annotations

from pathlib import Path

SERVING_ENV = "KPIBRIDGE_SERVING_DB"
GUIDANCE = "kpi load demo && kpi refresh"


def serving_path(store_path: Path) -> Path:
    """The serving copy beside a store: `.kpibridge/warehouse.duckdb` → `.kpibridge/warehouse.serving.duckdb`."""
    store_path = Path(store_path)
    return store_path.with_name(f"{store_path.stem}.serving.duckdb")
