"""The retry defaults of the GA4 clients, in a module of their own: `kpi load ga4-api --help` shows them, and
`kpi --help` must not import Google's client libraries to do so (tests/test_cli_startup.py)."""

from __future__ import annotations

# Each property tolerates only 10 server errors per project per hour (ga4.md §4.4): keep tries low.
DEFAULT_ATTEMPTS = 5
DEFAULT_MAX_WAIT = 60.0
