"""Store tables beside `ga4_report_rows` for the Data API: what GA4 said about each report, the quota, caveats.

`ga4_report_rows` (migration 1) holds the rows; these hold what the dashboard needs to call a number an
estimate (thresholding, sampling, `(other)` rows), the property quota after each load, and the caveats
`kpi refresh` derives for each `ga4_api` KPI value.
"""

from __future__ import annotations

GA4_API_TABLES_DDL: tuple[str, ...] = (
    """CREATE TABLE ga4_api_reports (
      load_id BIGINT NOT NULL,
      property VARCHAR NOT NULL,
      request_id VARCHAR NOT NULL,
      start_date DATE NOT NULL,
      end_date DATE NOT NULL,
      row_count BIGINT NOT NULL,
      pages INTEGER NOT NULL,
      other_rows BIGINT NOT NULL,
      data_loss_from_other_row BOOLEAN NOT NULL,
      subject_to_thresholding BOOLEAN NOT NULL,
      sampled_fraction DOUBLE,
      time_zone VARCHAR,
      currency_code VARCHAR,
      loaded_at TIMESTAMP NOT NULL,
      PRIMARY KEY (load_id, request_id)
    )""",
    """CREATE TABLE ga4_api_quota (
      load_id BIGINT NOT NULL,
      property VARCHAR NOT NULL,
      quota VARCHAR NOT NULL,
      consumed BIGINT NOT NULL,
      remaining BIGINT NOT NULL,
      recorded_at TIMESTAMP NOT NULL,
      PRIMARY KEY (load_id, quota)
    )""",
    """CREATE TABLE kpi_value_caveats (
      kpi_id VARCHAR NOT NULL,
      date DATE NOT NULL,
      breakdown VARCHAR NOT NULL,
      breakdown_value VARCHAR NOT NULL,
      source VARCHAR NOT NULL,
      caveats VARCHAR[] NOT NULL,
      PRIMARY KEY (kpi_id, date, breakdown, breakdown_value, source)
    )""",
)
