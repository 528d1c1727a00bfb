"""Store table of warehouse/event_stamps.py: per event and day, the events by `kb_spec` and without consent."""

from __future__ import annotations

EVENT_STAMPS_DDL = (
    """CREATE TABLE IF NOT EXISTS event_spec_versions (
      event_name VARCHAR NOT NULL,
      date DATE NOT NULL,
      spec_version VARCHAR,
      events BIGINT NOT NULL,
      no_consent_events BIGINT NOT NULL
    )""",
)
