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
# Each day whose data quality was checked: the `loaded_at` of the data checked and the hash of the checks run
# (warehouse/quality_days.py): a refresh checks a day again only when either changed (issue 13 §4).
QUALITY_DAYS_DDL = """CREATE TABLE IF NOT EXISTS event_quality_days (
  event_date VARCHAR PRIMARY KEY,
  loaded_at TIMESTAMP NOT NULL,
  checks_hash VARCHAR NOT NULL
)"""
