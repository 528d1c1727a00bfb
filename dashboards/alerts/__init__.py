"""`kpi alerts`: what needs attention on the serving data, told once, to the people who own it.

Alerts read the serving copy like the dashboard does, and judge a KPI with the dashboard's own status,
goal and data-health rules (dashboards/status.py, measures.py, health.py), so the KPI an alert calls
critical is the one the dashboard shows red.
"""

from __future__ import annotations

import logging

import streamlit.logger

# Outside a Streamlit app the dashboard's read cache says "No runtime found" on import: not news here.
streamlit.logger.get_logger("streamlit.runtime.caching.cache_data_api").setLevel(logging.ERROR)
