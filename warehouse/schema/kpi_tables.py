"""Store tables for computed KPIs: values, per-KPI refresh state, definition changes, data quality."""

from __future__ import annotations

KPI_TABLES_DDL: tuple[str, ...] = (
    """CREATE TABLE kpi_values (
      kpi_id VARCHAR NOT NULL,
      date DATE NOT NULL,
      breakdown VARCHAR NOT NULL,
      breakdown_value VARCHAR NOT NULL,
      value DOUBLE,
      numerator DOUBLE,
      denominator DOUBLE,
      definition_hash VARCHAR NOT NULL,
      source VARCHAR NOT NULL,
      computed_at TIMESTAMP NOT NULL,
      PRIMARY KEY (kpi_id, date, breakdown, breakdown_value, source)
    )""",
    """CREATE TABLE kpi_refresh_state (
      kpi_id VARCHAR NOT NULL,
      source VARCHAR NOT NULL,
      definition_hash VARCHAR NOT NULL,
      refreshed_at TIMESTAMP NOT NULL,
      PRIMARY KEY (kpi_id, source)
    )""",
    """CREATE TABLE kpi_definition_changes (
      kpi_id VARCHAR NOT NULL,
      definition_hash VARCHAR NOT NULL,
      effective_from DATE NOT NULL,
      PRIMARY KEY (kpi_id, definition_hash)
    )""",
    """CREATE TABLE event_quality (
      date DATE NOT NULL,
      event_name VARCHAR NOT NULL,
      events BIGINT NOT NULL,
      invalid_events BIGINT NOT NULL,
      missing_required BIGINT NOT NULL,
      wrong_type BIGINT NOT NULL,
      out_of_range BIGINT NOT NULL,
      pii_suspect BIGINT NOT NULL,
      in_spec BOOLEAN NOT NULL,
      PRIMARY KEY (date, event_name)
    )""",
    """CREATE TABLE refresh_log (
      refreshed_at TIMESTAMP NOT NULL,
      kpis INTEGER NOT NULL,
      days INTEGER NOT NULL,
      rows BIGINT NOT NULL,
      seconds DOUBLE NOT NULL,
      spec_hash VARCHAR NOT NULL
    )""",
)

# Exact values over periods for KPIs counting distinct users or sessions (warehouse/period_values.py).
PERIOD_VALUES_DDL = """CREATE TABLE IF NOT EXISTS kpi_period_values (
      kpi_id VARCHAR NOT NULL,
      grain VARCHAR NOT NULL,
      period_start DATE NOT NULL,
      period_end DATE NOT NULL,
      breakdown VARCHAR NOT NULL,
      breakdown_value VARCHAR NOT NULL,
      value DOUBLE,
      numerator DOUBLE,
      denominator DOUBLE,
      definition_hash VARCHAR NOT NULL,
      computed_at TIMESTAMP NOT NULL,
      PRIMARY KEY (kpi_id, grain, period_start, period_end, breakdown, breakdown_value)
    )"""
