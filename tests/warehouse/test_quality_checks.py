"""Data quality that names the problem (issue 10 §9): on hand-written GA4 export rows loaded and refreshed by the
real `kpi` commands, each check's count per event and day equals a count made here in plain Python, and
`kpi status --fail-on` stops a script exactly when a check of that level fired."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from ga4_rows import event, load_and_refresh
from typer.testing import CliRunner

from kpibridge.cli import app
from warehouse.location import copy_store

REPO = Path(__file__).resolve().parents[2]
D1, D2, D3 = "20240301", "20240302", "20240303"
TOO_LONG = "a" * 41


def crafted() -> list[dict]:
    rows = [
        # purchases: T1 twice on day 1, again on day 3 (two extra copies); T2 once; placeholder ids never count
        event(D1, 10, "purchase", "u1", 1, tid="T1"), event(D1, 20, "purchase", "u1", 1, tid="T1"),
        event(D2, 30, "purchase", "u2", 2, tid="T2"), event(D3, 40, "purchase", "u1", 3, tid="T1"),
        event(D1, 50, "purchase", "u3", 4, tid=""), event(D1, 60, "purchase", "u3", 4, tid=""),
        event(D2, 70, "purchase", "u3", 5, tid="(not set)"), event(D2, 80, "purchase", "u3", 5, tid="(not set)"),
        # a refund of T1 is another event: its first copy is no duplicate
        event(D3, 90, "refund", "u1", 3, tid="T1"),
        # consented events without a session id (a Measurement Protocol hit without session_id, say)
        event(D1, 100, "page_view", "u4", None), event(D2, 110, "page_view", "u4", None),
        event(D2, 120, "page_view", "u5", "777"),  # the id as text still makes a session
        # cookieless pings: no user_pseudo_id, no session id (consent mode, advanced)
        event(D1, 130, "page_view", None, None), event(D1, 140, "page_view", None, None),
        event(D3, 150, "purchase", None, None, tid="T9"),
        # names GA4's naming rule rejects
        event(D2, 160, "add-to-cart", "u6", 6), event(D2, 170, "1st_visit", "u6", 6),
        event(D3, 180, TOO_LONG, "u6", 7),
    ]
    rows += [event(d, 200 + i, "page_view", f"c{i}", 100 + i) for i, d in enumerate((D1, D2, D3, D3))]
    return rows


def expected(rows: list[dict]) -> dict[tuple[str, str], dict[str, int]]:
    """Per (day YYYY-MM-DD, event): each check's count, by hand."""
    out: dict[tuple[str, str], Counter] = {}
    seen: set[tuple[str, str]] = set()
    for r in sorted(rows, key=lambda r: r["event_timestamp"]):
        key = (f"{r['event_date'][:4]}-{r['event_date'][4:6]}-{r['event_date'][6:]}", r["event_name"])
        c = out.setdefault(key, Counter())
        c["events"] += 1
        tid = (r["ecommerce"] or {}).get("transaction_id")
        if tid not in (None, "", "(not set)"):
            c["duplicate_transactions"] += (r["event_name"], tid) in seen
            seen.add((r["event_name"], tid))
        sid = next((p["value"] for p in r["event_params"] if p["key"] == "ga_session_id"), None)
        has_sid = sid is not None and (sid["int_value"] is not None or (sid["string_value"] or "").isdigit())
        if r["user_pseudo_id"] is None:
            c["cookieless"] += 1
        elif not has_sid:
            c["no_session_id"] += 1
        name = r["event_name"]
        ok = bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name)) and len(name) <= 40
        c["bad_event_name"] += not ok
    return {k: {n: v[n] for n in ("events", "duplicate_transactions", "no_session_id", "cookieless",
                                  "bad_event_name")} for k, v in out.items()}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    db, _ = load_and_refresh(crafted(), tmp_path_factory.mktemp("quality"), REPO / "kpis")
    return db


def test_each_check_is_counted_per_event_and_day(warehouse: Path) -> None:
    want = expected(crafted())
    assert sum(v["duplicate_transactions"] for v in want.values()) == 2
    for db in (warehouse, warehouse.with_name("warehouse.serving.duckdb")):  # the store and the serving copy
        with duckdb.connect(str(db), read_only=True) as con:
            got = {(str(d), e): {"events": n, "duplicate_transactions": dup, "no_session_id": ns, "cookieless": ck,
                                 "bad_event_name": bad}
                   for d, e, n, dup, ns, ck, bad in con.execute(
                       "SELECT date, event_name, events, duplicate_transactions, no_session_id, cookieless, "
                       "bad_event_name FROM event_quality").fetchall()}
        assert got == want


def test_status_shows_the_count_per_check(warehouse: Path) -> None:
    result = CliRunner().invoke(app, ["status", "--db", str(warehouse), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {r["event"]: r for r in json.loads(result.stdout)}
    assert "duplicate transaction id: 2" in rows["purchase"]["failed_checks"]
    assert "cookieless (no user_pseudo_id): 1" in rows["purchase"]["failed_checks"]
    assert "no ga_session_id: 2" in rows["page_view"]["failed_checks"]
    assert "cookieless (no user_pseudo_id): 2" in rows["page_view"]["failed_checks"]
    assert "name GA4 rejects: 1" in rows["add-to-cart"]["failed_checks"]


def _status(db: Path, *args: str):
    return CliRunner().invoke(app, ["status", "--db", str(db), *args])


def test_fail_on_stops_exactly_at_the_level_of_the_check(tmp_path: Path) -> None:
    """Only the `sessions` KPI (no event of its own to miss): a clean export passes both levels; events without
    a session id (a warning) fail --fail-on warning only; a name GA4 rejects (an error) fails both."""
    kpis = tmp_path / "kpis"
    kpis.mkdir()
    shutil.copy(REPO / "kpis" / "acquisition" / "sessions.yaml", kpis)
    clean = [event(D1, 10 + i, "page_view", f"u{i}", i + 1) for i in range(3)]
    clean_db, _ = load_and_refresh(clean, tmp_path / "clean", kpis)
    assert _status(clean_db, "--fail-on", "warning").exit_code == 0
    assert _status(clean_db, "--fail-on", "error").exit_code == 0

    cookieless = [*clean, event(D1, 50, "page_view", None, None)]  # info: counted, never fails
    cookieless_db, _ = load_and_refresh(cookieless, tmp_path / "cookieless", kpis)
    assert _status(cookieless_db, "--fail-on", "warning").exit_code == 0

    sessionless = [*clean, event(D1, 60, "page_view", "u9", None)]
    warned_db, _ = load_and_refresh(sessionless, tmp_path / "warned", kpis)
    warned = _status(warned_db, "--fail-on", "warning")
    assert warned.exit_code == 1
    assert "page_view: no ga_session_id: 1 (warning)" in warned.stderr
    assert _status(warned_db, "--fail-on", "error").exit_code == 0
    assert _status(warned_db).exit_code == 0

    badly_named = [*clean, event(D1, 70, "page-view", "u1", 1)]
    bad_db, _ = load_and_refresh(badly_named, tmp_path / "bad", kpis)
    failed = _status(bad_db, "--fail-on", "error")
    assert failed.exit_code == 1
    assert "page-view: name GA4 rejects: 1 (error)" in failed.stderr
    assert _status(bad_db, "--fail-on", "warning").exit_code == 1


def test_days_checked_before_the_new_checks_are_checked_again(warehouse: Path, tmp_path: Path) -> None:
    """A store upgraded by the migration holds NULL for the new checks on its old days: the next (incremental)
    refresh checks those days again instead of showing 0."""
    db = tmp_path / "upgraded.duckdb"
    copy_store(warehouse, db)
    with duckdb.connect(str(db)) as con:
        con.execute("UPDATE event_quality SET duplicate_transactions = NULL, no_session_id = NULL, "
                    "cookieless = NULL, bad_event_name = NULL")
    refreshed = CliRunner().invoke(app, ["refresh", "--db", str(db), "--kpis", str(REPO / "kpis")])
    assert refreshed.exit_code == 0, refreshed.output
    with duckdb.connect(str(db), read_only=True) as con:
        dups = con.execute("SELECT sum(duplicate_transactions), count(*) FILTER (WHERE bad_event_name IS NULL) "
                           "FROM event_quality").fetchall()[0]
    assert dups == (2, 0)


def test_the_session_id_is_read_from_its_flattened_column_with_the_same_counts(warehouse: Path) -> None:
    """The refresh keeps the value of `ga_session_id` (the KPIs' session key reads it: `export_shape.SESSION_COLUMN`),
    so the quality statement counts the volume from `slim_events` with that column instead of searching every raw
    event's params for it: the counts
    above (by hand) came from it, and the statement reading the raw files, as on a store without the column,
    counts exactly the same."""
    from generator.compile import compile_paths
    from generator.sql.export_shape import session_value_key
    from warehouse.flat_params import warehouse_shape
    from warehouse.quality import QUALITY_SQL, compute_quality, quality_sql

    catalog = compile_paths([REPO / "kpis"]).catalog
    with duckdb.connect(str(warehouse)) as con:
        column = warehouse_shape(con).flat_column(session_value_key("ga_session_id"))
        assert column and f"{column} AS session_id" in quality_sql(con) and "FROM slim_events" in quality_sql(con)
        assert column not in QUALITY_SQL
        flat = compute_quality(con, catalog, D1, D3)
        con.execute("BEGIN TRANSACTION")  # (the module's store is left as it was)
        con.execute("DELETE FROM flat_params")  # the store as before the column: the params are searched
        assert "ga_session_id" in quality_sql(con) and column not in quality_sql(con)
        searched = compute_quality(con, catalog, D1, D3)
        con.execute("ROLLBACK")
    assert sorted(searched.to_pylist(), key=str) == sorted(flat.to_pylist(), key=str)
    assert sum(flat.column("no_session_id").to_pylist()) == 2

