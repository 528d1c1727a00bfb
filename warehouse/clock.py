"""The store's clock: every timestamp it keeps (loaded, computed, refreshed) is naive UTC, DuckDB's TIMESTAMP."""

from __future__ import annotations

import datetime as dt


def utc_now() -> dt.datetime:
    """Now, in UTC, without a time zone (as the store's TIMESTAMP columns hold it)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
