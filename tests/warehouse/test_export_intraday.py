"""Intraday and daily export tables of one day, copies and overlapping files (issue 10 §4, issue 12 item 5).

Every expected count is computed in the test, with plain DuckDB SQL over the export files themselves.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from stored_events import export_rows

from warehouse.sources.demo import iter_demo_days

DAYS = {"events": 3_000, "days": 3, "seed": 11, "end_date": date(2024, 1, 31)}
LAST = "20240131"
STORE_SQL = "SELECT event_date, rows, checksum, load_id FROM loaded_days ORDER BY 1"


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    """Daily tables of three days, and the last day's intraday table: its first 60 % of events, without
    the attribution records (GA4 adds them only to the daily table)."""
    root = tmp_path_factory.mktemp("intraday")
    (root / "daily").mkdir()
    (root / "intraday").mkdir()
    for day, table in iter_demo_days(**DAYS):
        pq.write_table(table, root / "daily" / f"events_{day}.parquet")
        if day == LAST:
            part = table.slice(0, table.num_rows * 6 // 10)
            column = part.schema.get_field_index("session_traffic_source_last_click")
            nulls = pa.nulls(part.num_rows, part.schema.field(column).type)
            part = part.set_column(column, part.schema.field(column), nulls)
            pq.write_table(part, root / "intraday" / f"events_intraday_{day}.parquet")
    return root


def rows_of(pattern: Path | str) -> int:
    return duckdb.execute("SELECT count(*) FROM read_parquet($p)", {"p": str(pattern)}).fetchall()[0][0]


def same_rows(db: Path, pattern: Path | str) -> bool:
    """The store's events are exactly the files' rows, as multisets (nested values included); the store's own
    columns beside them (the flattened params, `flat_params.py`) left out."""
    stored = export_rows()
    with duckdb.connect(str(db), read_only=True) as con:
        return all(con.execute(f"SELECT count(*) FROM ({sql})", {"p": str(pattern)}).fetchall()[0][0] == 0
                   for sql in (f"{stored} EXCEPT ALL FROM read_parquet($p)",
                               f"FROM read_parquet($p) EXCEPT ALL {stored}"))


def provisional(query, db: Path) -> list[str]:
    return [d for (d,) in query(db, "SELECT event_date FROM loaded_day_tables WHERE export_table = 'intraday' "
                                    "ORDER BY 1")]


def test_intraday_first_then_daily_in_two_commands(kpi, export, db, query):
    first = kpi("load", "ga4-export", export / "intraday", "--db", db)
    assert first.exit_code == 0, first.output
    intraday_rows = rows_of(export / "intraday" / "*.parquet")
    assert query(db, "SELECT count(*) FROM ga4_events")[0][0] == intraday_rows
    assert provisional(query, db) == [LAST]
    assert "Provisional: 2024-01-31 is loaded from GA4's intraday table only" in first.stdout

    second = kpi("load", "ga4-export", export / "daily", "--db", db)
    assert second.exit_code == 0, second.output
    assert query(db, "SELECT count(*) FROM ga4_events")[0][0] == rows_of(export / "daily" / "*.parquet")
    assert same_rows(db, export / "daily" / "*.parquet")  # each event once, the daily table's version of it
    assert provisional(query, db) == []
    assert "2024-01-31: the daily table replaces the provisional intraday data" in second.stdout
    assert "Provisional" not in second.stdout


def test_daily_first_then_a_late_intraday_file_is_ignored(kpi, export, db, query):
    assert kpi("load", "ga4-export", export / "daily", "--db", db).exit_code == 0
    before = query(db, STORE_SQL)
    late = kpi("load", "ga4-export", export / "intraday" / f"events_intraday_{LAST}.parquet", "--db", db)
    assert late.exit_code == 0, late.output
    assert query(db, STORE_SQL) == before  # the day still holds the daily table, from the first load
    assert same_rows(db, export / "daily" / "*.parquet")
    assert provisional(query, db) == []
    notes = [line for line in late.stdout.splitlines() if line.startswith("Note:")]
    assert notes == [f"Note: 2024-01-31: ignored events_intraday_{LAST}.parquet, since the warehouse already holds "
                     "this day from the daily table (intraday data never replaces it)."]


@pytest.mark.parametrize("intraday_folder", ["a", "z"])  # the intraday file found before or after the daily one
def test_both_tables_in_one_load_count_each_event_once(kpi, export, db, query, tmp_path, intraday_folder):
    folder = tmp_path / "both"
    shutil.copytree(export / "daily", folder / ("z" if intraday_folder == "a" else "a"))
    shutil.copytree(export / "intraday", folder / intraday_folder)
    result = kpi("load", "ga4-export", folder, "--db", db, "--format", "json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    daily_rows = rows_of(export / "daily" / "*.parquet")
    assert summary["rows"] == daily_rows and summary["provisional"] == []
    assert summary["notes"] == [f"2024-01-31: the daily table (events_{LAST}.parquet) replaces the intraday one; "
                                f"skipped events_intraday_{LAST}.parquet."]
    assert query(db, "SELECT count(*) FROM ga4_events")[0][0] == daily_rows
    assert same_rows(db, export / "daily" / "*.parquet")


def test_tables_exported_as_folders_of_shards(kpi, export, db, query, tmp_path):
    """`EXPORT DATA … uri='…/events_YYYYMMDD/*.parquet'` writes numbered shards into a folder named after
    the table: the folder's name says which table, and the shards of one table are all loaded."""
    table = pq.read_table(export / "daily" / f"events_{LAST}.parquet")
    half = table.num_rows // 2
    daily, intraday = tmp_path / "gcs" / f"events_{LAST}", tmp_path / "gcs" / f"events_intraday_{LAST}"
    daily.mkdir(parents=True)
    intraday.mkdir()
    pq.write_table(table.slice(0, half), daily / "000000000000.parquet")
    pq.write_table(table.slice(half), daily / "000000000001.parquet")
    shutil.copy(export / "intraday" / f"events_intraday_{LAST}.parquet", intraday / "000000000000.parquet")

    assert kpi("load", "ga4-export", intraday, "--db", db).exit_code == 0
    assert provisional(query, db) == [LAST]
    result = kpi("load", "ga4-export", tmp_path / "gcs", "--db", db)
    assert result.exit_code == 0, result.output
    assert query(db, "SELECT count(*) FROM ga4_events")[0][0] == table.num_rows
    assert same_rows(db, export / "daily" / f"events_{LAST}.parquet")
    assert provisional(query, db) == []


def test_the_same_days_file_twice_loads_once(kpi, export, db, query, tmp_path):
    """A copy in another folder, and the same rows as NDJSON: one day's events once, the copies named."""
    folder = tmp_path / "twice"
    shutil.copytree(export / "daily", folder)
    (folder / "backup").mkdir()
    shutil.copy(folder / f"events_{LAST}.parquet", folder / "backup" / f"events_{LAST}.parquet")
    duckdb.execute(f"COPY (SELECT * FROM read_parquet('{folder / 'events_20240130.parquet'}')) "
                   f"TO '{folder / 'events_20240130.jsonl.gz'}' (FORMAT json, COMPRESSION gzip)")
    result = kpi("load", "ga4-export", folder, "--db", db)
    assert result.exit_code == 0, result.output
    assert query(db, "SELECT count(*) FROM ga4_events")[0][0] == rows_of(export / "daily" / "*.parquet")
    assert same_rows(db, export / "daily" / "*.parquet")
    notes = sorted(line for line in result.stdout.splitlines() if line.startswith("Note:"))
    assert len(notes) == 2
    assert notes[0].startswith("Note: 2024-01-30: skipped ") and "a copy of" in notes[0]
    assert notes[1].startswith("Note: 2024-01-31: skipped ") and "a copy of" in notes[1]


def test_a_file_whose_rows_another_holds_is_skipped(kpi, export, db, query, tmp_path):
    folder = tmp_path / "subset"
    folder.mkdir()
    daily = pq.read_table(export / "daily" / f"events_{LAST}.parquet")
    pq.write_table(daily, folder / f"events_{LAST}.parquet")
    pq.write_table(daily.slice(10, 200), folder / f"events_{LAST}_first_try.parquet")
    result = kpi("load", "ga4-export", folder, "--db", db)
    assert result.exit_code == 0, result.output
    assert query(db, "SELECT count(*) FROM ga4_events")[0][0] == daily.num_rows
    assert f"its 200 rows are all in {folder / f'events_{LAST}.parquet'}" in result.stdout


def test_files_that_share_only_some_events_are_refused_and_change_nothing(kpi, export, db, query, tmp_path):
    assert kpi("load", "ga4-export", export / "daily", "--db", db).exit_code == 0
    before = query(db, STORE_SQL)
    folder = tmp_path / "overlap"
    folder.mkdir()
    daily = pq.read_table(export / "daily" / f"events_{LAST}.parquet")
    pq.write_table(daily.slice(0, 600), folder / f"events_{LAST}-000000000000.parquet")
    pq.write_table(daily.slice(500), folder / f"events_{LAST}-000000000001.parquet")
    result = kpi("load", "ga4-export", folder, "--db", db)
    assert result.exit_code == 1
    message = " ".join(result.output.split())
    assert f"events_{LAST}-000000000000.parquet and " in message or f"events_{LAST}-000000000001.parquet and " in message
    assert "share 100 of the events of 2024-01-31" in message
    assert "Nothing was loaded" in message
    assert query(db, STORE_SQL) == before


def _truncated_gzip(folder: Path) -> Path:
    path = folder / "events_20240130.json.gz"
    duckdb.execute(f"COPY (SELECT * FROM read_parquet('{folder / 'events_20240130.parquet'}')) TO '{path}' "
                   "(FORMAT json, COMPRESSION gzip)")
    (folder / "events_20240130.parquet").unlink()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    return path


def _empty(folder: Path) -> Path:
    path = folder / "events_20240130.parquet"
    path.write_bytes(b"")
    return path


def _wrong_schema(folder: Path) -> Path:
    path = folder / "events_20240130.parquet"
    pq.write_table(pa.table({"event_date": ["20240130"], "name": ["page_view"]}), path)
    return path


@pytest.mark.parametrize(("spoil", "what"), [
    (_truncated_gzip, "is a truncated or damaged gzip file"),
    (_empty, "is empty (0 bytes)"),
    (_wrong_schema, "has no column 'event_timestamp'"),
])  # fmt: skip
def test_a_broken_file_is_named_and_nothing_is_loaded(kpi, export, db, query, tmp_path, spoil, what):
    assert kpi("load", "ga4-export", export / "intraday", "--db", db).exit_code == 0
    before = query(db, STORE_SQL), provisional(query, db)
    folder = tmp_path / "broken"
    shutil.copytree(export / "daily", folder)
    bad = spoil(folder)
    result = kpi("load", "ga4-export", folder, "--db", db)
    assert result.exit_code == 1
    message = " ".join(result.output.split())
    assert message.startswith(f"Error: {bad} {what}"), message
    assert "Aborted" not in message and "Traceback" not in message
    assert message.endswith("Nothing was loaded; the warehouse is as it was.")
    assert (query(db, STORE_SQL), provisional(query, db)) == before


ADD_TO_CARTS_KPI = """\
version: 1
kpi: add_to_carts
title: Add-to-carts
description: Products put in the cart.
objective: Sell more
owner: shop@shop.example
team: shop
measure:
  count:
    event: add_to_cart
direction: up
target: 10
"""


def test_a_provisional_day_is_shown_and_recomputed_when_its_daily_table_arrives(kpi, db, tmp_path):
    """Through the whole CLI: intraday data for the last day, refresh (provisional, in the summary and in
    `kpi status`), then the daily table with the next days: the day is recomputed from the daily table
    although it is no longer among the last days a refresh always recomputes."""
    from typer.testing import CliRunner

    from kpibridge.cli import app

    repo = Path(__file__).resolve().parents[2]
    kpis = tmp_path / "kpis"
    kpis.mkdir()
    shutil.copy(repo / "kpis" / "events.yaml", kpis / "events.yaml")
    (kpis / "add_to_carts.yaml").write_text(ADD_TO_CARTS_KPI)
    first, later = tmp_path / "first", tmp_path / "later"
    first.mkdir()
    later.mkdir()
    days = list(iter_demo_days(events=6_000, days=6, seed=3, end_date=date(2024, 2, 3)))  # 29 Jan to 3 Feb
    for day, table in days:
        if day < LAST:
            pq.write_table(table, first / f"events_{day}.parquet")
        else:
            pq.write_table(table, later / f"events_{day}.parquet")
        if day == LAST:
            pq.write_table(table.slice(0, table.num_rows // 2), first / f"events_intraday_{day}.parquet")

    def carts(pattern: Path) -> int:  # the expected value: add_to_cart events in these files
        return duckdb.execute("SELECT count(*) FROM read_parquet($p) WHERE event_name = 'add_to_cart'",
                              {"p": str(pattern)}).fetchall()[0][0]

    def run(*args: str | Path):
        result = CliRunner().invoke(app, [str(a) for a in args])
        assert result.exit_code == 0, result.output
        return result

    def value_on(day: str) -> float:
        out = run("values", "--kpi", "add_to_carts", "--db", db, "--kpis", kpis, "--format", "json").stdout
        return {r["date"]: r["value"] for r in json.loads(out)}[f"{day[:4]}-{day[4:6]}-{day[6:]}"]

    run("load", "ga4-export", first, "--db", db)
    refreshed = run("refresh", "--db", db, "--kpis", kpis)
    sentence = "Provisional: 2024-01-31 is loaded from GA4's intraday table only"
    assert sentence in " ".join(refreshed.stdout.split())
    assert sentence in " ".join(run("status", "--db", db).output.split())
    assert value_on(LAST) == carts(first / f"events_intraday_{LAST}.parquet")

    run("load", "ga4-export", later, "--db", db)
    refreshed = run("refresh", "--db", db, "--kpis", kpis)
    assert "Provisional" not in refreshed.output
    assert "Provisional" not in run("status", "--db", db).output
    assert value_on(LAST) == carts(later / f"events_{LAST}.parquet")
    assert value_on(LAST) != carts(first / f"events_intraday_{LAST}.parquet")


@pytest.mark.parametrize("suffix", ["parquet", "jsonl"])
def test_an_intraday_file_holding_two_days_loads_only_the_day_not_yet_final(kpi, export, db, query, tmp_path,
                                                                               suffix):
    """Only the day the warehouse does not hold from a daily table is read from the file."""
    assert kpi("load", "ga4-export", export / "daily" / "events_20240130.parquet", "--db", db).exit_code == 0
    before = query(db, STORE_SQL)[0]
    both = tmp_path / f"events_intraday_{LAST}_and_before.{suffix}"
    duckdb.execute(f"COPY (SELECT * FROM read_parquet('{export / 'daily'}/events_2024013*.parquet')) TO '{both}' "
                   f"(FORMAT {'parquet' if suffix == 'parquet' else 'json'})")
    result = kpi("load", "ga4-export", both, "--db", db)
    assert result.exit_code == 0, result.output
    assert query(db, STORE_SQL)[0] == before  # 30 January: still the daily table's rows
    last = duckdb.execute(f"SELECT count(*) FROM read_parquet('{export / 'daily'}/events_{LAST}.parquet')").fetchall()
    assert query(db, "SELECT count(*) FROM ga4_events WHERE event_date = $d", {"d": LAST}) == last
    assert provisional(query, db) == [LAST]
    assert f"2024-01-30: ignored {both.name}" in result.stdout
