"""What `kpi alerts` reads from the serving copy: one short-lived read-only connection, plain frames."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
from warehouse.serving_contract import VERSION_KEY, outdated, read_only

from ..cell_values import as_date, as_tuple
from ..data import LIST_COLUMNS, ONE_SOURCE
from ..scorecard import active_definitions


class NoServingData(RuntimeError):
    """No serving copy, or one without KPI values: nothing to judge yet."""


@dataclass(frozen=True)
class Snapshot:
    definitions: pd.DataFrame  # active KPIs: kpi_definitions' columns, None for missing values
    targets: pd.DataFrame  # kpi_id, valid_from, value
    totals: pd.DataFrame  # kpi_id, date, value, numerator, denominator (totals, one source a day)
    quality: pd.DataFrame  # date, event_name, events, invalid_events
    data_end: date  # the newest day of data

    def targets_of(self, kpi_id: str) -> list[tuple[date, float]]:
        rows = self.targets[self.targets["kpi_id"] == kpi_id]
        return list(zip(rows["valid_from"], rows["value"], strict=True))


def read_snapshot(path: Path, history_days: int) -> Snapshot:
    """The active KPIs and the last `history_days` days of their totals and event quality."""
    if not path.exists():
        raise NoServingData(f"No computed KPIs at {path} yet. Run `kpi load demo && kpi refresh` (or load your "
                            "GA4 export, then `kpi refresh`).")

    def work(con) -> Snapshot:  # a read-only connection from the serving contract, the one door to the file
        tables = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        row = (con.execute("SELECT value FROM warehouse_info WHERE key = ?", [VERSION_KEY]).fetchone()
               if "warehouse_info" in tables else None)
        if outdated(row[0] if row else None):
            raise NoServingData(f"{path}: {outdated(row[0] if row else None)}")
        end = con.execute("SELECT max(date) FROM kpi_values WHERE breakdown = ''").fetchone()[0]
        if end is None:
            raise NoServingData(f"{path} holds no KPI values yet. Run `kpi refresh`.")
        # the newest day loaded, also when no KPI had a value that day
        row = con.execute("SELECT value FROM warehouse_info WHERE key = 'data_end'").fetchone()
        if row and row[0]:
            end = max(end, date.fromisoformat(row[0]))
        start = end - timedelta(days=history_days)
        definitions = con.execute("SELECT * FROM kpi_definitions ORDER BY kpi_id").df()
        definitions = definitions.astype(object).where(definitions.notna(), None)
        for column in LIST_COLUMNS:
            if column in definitions:
                definitions[column] = definitions[column].map(as_tuple)
        targets = con.execute("SELECT kpi_id, valid_from, value FROM kpi_targets ORDER BY kpi_id, valid_from").df()
        totals = con.execute(
            "SELECT kpi_id, date, value, numerator, denominator FROM kpi_values "
            f"WHERE breakdown = '' AND date BETWEEN ? AND ? {ONE_SOURCE} ORDER BY kpi_id, date", [start, end]
        ).df()
        quality = con.execute(
            "SELECT date, event_name, events, invalid_events FROM event_quality WHERE date BETWEEN ? AND ?",
            [start, end],
        ).df()
        for frame, column in ((targets, "valid_from"), (totals, "date"), (quality, "date")):
            frame[column] = frame[column].map(as_date)
        return Snapshot(active_definitions(definitions), targets, totals, quality, end)

    return read_only(path, work)
