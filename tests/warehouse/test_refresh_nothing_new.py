"""A refresh with nothing new computes nothing, says so in one sentence, and keeps the dashboard's copy (issue 13).

Everything goes through the real `kpi` command (typer's CliRunner), as a user runs it.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
from kpi_runs import kpi, rows

REPO = Path(__file__).resolve().parents[2]
END = date(2026, 3, 31)
VALUES = "SELECT * FROM kpi_values ORDER BY ALL"
PERIODS = "SELECT * FROM kpi_period_values ORDER BY ALL"


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path]:
    """(KPI folder, store): the example KPIs over 20 demo days, refreshed once."""
    kpis = tmp_path / "kpis"
    shutil.copytree(REPO / "kpis", kpis)
    store = tmp_path / "warehouse.duckdb"
    kpi("load", "demo", "--events", 4_000, "--days", 20, "--seed", 4, "--end-date", END, "--db", store)
    kpi("refresh", "--db", store, "--kpis", kpis)
    return kpis, store


def refresh_json(kpis: Path, store: Path, *more: str) -> dict:
    out = kpi("refresh", "--db", store, "--kpis", kpis, "--format", "json", *more)
    return json.loads(next(line for line in out.splitlines() if line.startswith("{")))


def test_nothing_new_computes_nothing_and_says_so(project):
    kpis, store = project
    serving = store.with_name("warehouse.serving.duckdb")
    before = rows(store, VALUES), rows(store, PERIODS), rows(store, "SELECT * FROM refresh_log")
    served = serving.stat().st_mtime_ns
    out = kpi("refresh", "--db", store, "--kpis", kpis)
    last = rows(store, "SELECT max(refreshed_at) FROM refresh_log")[0][0]
    assert out.strip() == (f"Nothing new since the last refresh at {last:%Y-%m-%d %H:%M:%S} UTC; values unchanged. "
                           "Use --full to recompute.")
    # not a value touched (computed_at included), no refresh logged, the dashboard's copy left as it was
    assert (rows(store, VALUES), rows(store, PERIODS), rows(store, "SELECT * FROM refresh_log")) == before
    assert serving.stat().st_mtime_ns == served
    summary = refresh_json(kpis, store)
    assert (summary["rows"], summary["days"], summary["recomputed"]) == (0, 0, {})
    assert summary["unchanged_since"] == last.isoformat(sep=" ", timespec="seconds")


def test_nothing_new_still_publishes_a_missing_serving_copy(project):
    kpis, store = project
    serving = store.with_name("warehouse.serving.duckdb")
    expected = rows(serving, VALUES)
    serving.unlink()
    summary = refresh_json(kpis, store)
    assert summary["unchanged_since"] and summary["rows"] == 0
    assert rows(serving, VALUES) == expected


def test_a_new_title_is_published_without_computing(project):
    kpis, store = project
    path = kpis / "acquisition" / "sessions.yaml"
    text = path.read_text()
    title = next(line for line in text.splitlines() if line.startswith("title:"))
    path.write_text(text.replace(title, "title: Visits"))
    summary = refresh_json(kpis, store)
    assert summary["unchanged_since"]
    served = rows(store.with_name("warehouse.serving.duckdb"),
                  "SELECT title FROM kpi_definitions WHERE kpi_id = 'sessions'")
    assert served == [("Visits",)]


def test_a_new_day_a_changed_definition_or_full_recomputes(project):
    kpis, store = project
    assert refresh_json(kpis, store, "--full")["unchanged_since"] is None  # --full always computes
    kpi("load", "demo", "--events", 200, "--days", 1, "--seed", 5, "--end-date", date(2026, 4, 1), "--db", store)
    summary = refresh_json(kpis, store)
    assert summary["unchanged_since"] is None and summary["rows"] > 0
    assert rows(store, "SELECT max(period_end) FROM kpi_period_values WHERE grain = 'period'") == [(date(2026, 4, 1),)]
    assert refresh_json(kpis, store)["unchanged_since"]  # and then nothing new again
    path = kpis / "acquisition" / "sessions.yaml"
    path.write_text(path.read_text().replace("breakdowns: [", "breakdowns: [country, ", 1))
    summary = refresh_json(kpis, store)
    assert summary["unchanged_since"] is None and summary["recomputed"]["sessions"] == 21


def test_a_store_that_never_recorded_its_transaction_ids_is_not_left_as_it_is(project):
    """A store migration 11 upgraded has `transaction_first_seen` empty: its next refresh is not "nothing new" but
    records each transaction id's first day and recounts the days holding a purchase. A refresh with nothing
    new tells so from whether the table records any id (the last refresh saved it whole), not by reading every
    purchase again."""
    kpis, store = project
    recorded = rows(store, "SELECT * FROM transaction_first_seen ORDER BY ALL")
    purchase_days = rows(store, "SELECT count(DISTINCT event_date) FROM events WHERE event_name = 'purchase' "
                                "AND nullif(ecommerce.transaction_id, '') IS NOT NULL")[0][0]
    assert recorded and purchase_days > 5
    assert refresh_json(kpis, store)["unchanged_since"]
    with duckdb.connect(str(store)) as con:  # as the upgrade left it
        con.execute("DELETE FROM transaction_first_seen")
    summary = refresh_json(kpis, store)
    assert summary["unchanged_since"] is None
    assert summary["recomputed"]["revenue"] >= purchase_days  # every day holding a purchase, recounted
    assert rows(store, "SELECT * FROM transaction_first_seen ORDER BY ALL") == recorded
    assert refresh_json(kpis, store)["unchanged_since"]
