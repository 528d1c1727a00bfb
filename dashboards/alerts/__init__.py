"""`kpi alerts`: what needs attention on the serving data, told once, to the people who own it.

Alerts read the serving copy like the dashboard does, and judge a KPI with the dashboard's own status,
goal and data-health rules (dashboards/status.py, measures.py, health.py), so the KPI an alert calls
critical is the one the dashboard shows red.
"""

from __future__ import annotations

import logging

# Outside a Streamlit app the dashboard's read cache says "No runtime found" on import: not news here. A filter
# on the standard logger (Streamlit's own `get_logger` resets the level, not the filters), so that importing this
# package does not import Streamlit: `kpi --help` lists `kpi alerts` without it (tests/test_cli_startup.py).
logging.getLogger("streamlit.runtime.caching.cache_data_api").addFilter(lambda record: record.levelno >= logging.ERROR)
