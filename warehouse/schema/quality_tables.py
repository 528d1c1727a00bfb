"""Store tables of issue 10 §9 and §1: GA4's own checks per event and day (new `event_quality` columns; NULL on
days checked before they existed, which the next refresh checks again) and, per day, how many sessions got their
channel by which attribution method (warehouse/attribution_methods.py)."""

from __future__ import annotations

QUALITY_TABLES_DDL: tuple[str, ...] = (
    "ALTER TABLE event_quality ADD COLUMN IF NOT EXISTS duplicate_transactions BIGINT",
    "ALTER TABLE event_quality ADD COLUMN IF NOT EXISTS no_session_id BIGINT",
    "ALTER TABLE event_quality ADD COLUMN IF NOT EXISTS cookieless BIGINT",
    "ALTER TABLE event_quality ADD COLUMN IF NOT EXISTS bad_event_name BIGINT",
    """CREATE TABLE IF NOT EXISTS attribution_methods (
      date DATE NOT NULL,
      method VARCHAR NOT NULL,
      sessions BIGINT NOT NULL,
      PRIMARY KEY (date, method)
    )""",
)
