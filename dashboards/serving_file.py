"""Where the dashboard's serving database is: names shared by the app and `kpi dashboard`.

Kept apart from data.py, which imports Streamlit's caches: importing those outside a running app logs
"No runtime found" warnings, and `kpi dashboard` must start quietly.
"""

from __future__ import annotations

from warehouse.serving_contract import serving_path  # noqa: F401 - the one rule, re-exported for the app

SERVING_ENV = "KPIBRIDGE_SERVING_DB"
GUIDANCE = "kpi load demo && kpi refresh"

