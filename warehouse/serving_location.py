"""Where a store's serving copy lives: one rule, used by the refresh that writes it and the dashboard that reads it.

Pure path arithmetic (no DuckDB, no compiled KPIs), so the dashboard can import it without reaching into the
warehouse's writing side.
"""

from __future__ import annotations

from pathlib import Path


def serving_path(store: Path) -> Path:
    """`.kpibridge/warehouse.duckdb` → `.kpibridge/warehouse.serving.duckdb`; `w.db` → `w.serving.db`."""
    store = Path(store)
    return store.with_name(f"{store.stem}.serving{store.suffix or '.duckdb'}")
