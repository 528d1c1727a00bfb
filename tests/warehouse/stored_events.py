"""The stored events as exported: `ga4_events` has the store's own columns beside the export's (the flattened
params, `warehouse/flat_params.py`), which a comparison with export files leaves out."""

from __future__ import annotations

from warehouse.schema import COLUMN_NAMES


def export_rows(table: str = "ga4_events") -> str:
    """A SELECT of `table`'s export columns, in the export's order."""
    return "SELECT " + ", ".join(f'"{c}"' for c in COLUMN_NAMES) + f" FROM {table}"
