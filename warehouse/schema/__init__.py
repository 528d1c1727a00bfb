"""The store's schema: the `ga4_events` shape and the migrations that create every store table."""

from .events import ARROW_SCHEMA, COLUMN_NAMES, COLUMNS, REQUIRED_COLUMNS, Column
from .migrations import LATEST_VERSION, MIGRATIONS, SchemaTooNewError, apply_migrations, current_version

__all__ = [
    "ARROW_SCHEMA",
    "COLUMNS",
    "COLUMN_NAMES",
    "Column",
    "LATEST_VERSION",
    "MIGRATIONS",
    "REQUIRED_COLUMNS",
    "SchemaTooNewError",
    "apply_migrations",
    "current_version",
]
