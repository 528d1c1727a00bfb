"""Distinct counts over periods are distinct (issue 10 §5), checked the way an auditor would.

The expected numbers are computed here, in plain SQL over the store's raw events (`ga4_events`), never by
calling KPI Bridge's own code: distinct users, distinct purchasers, users converting from `add_to_cart` to
`purchase` within a day, and a ratio of two distinct counts.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from generator.plan.queries import compile_plan
from generator.rules.validate import validate_paths
from kpibridge.cli import app as kpi_app
from warehouse.connection import connect_store
from warehouse.location import copy_store
from warehouse.refresh import refresh_kpis
from warehouse.sources.demo import iter_demo_days
from warehouse.store import insert_events, run_load

REPO = Path(__file__).resolve().parents[2]
END = date(2026, 3, 31)  # a Tuesday: the last week and month are partial
DAYS = 60
EXTRA_KPIS = {
    "active_users.yaml": "measure:\n  users: {}\ntime_grain: week\n",
    "purchasers.yaml": "measure:\n  users_with: purchase\n",
    "purchaser_share.yaml": "measure:\n  ratio:\n    numerator: {users_with: purchase}\n"
    "    denominator: {users: {}}\nformat: percent\n",
}
HEADER = ("version: 1\nkpi: {kpi}\ntitle: {title}\ndescription: A test KPI.\nobjective: Audit\n"
          "owner: audit@shop.example\nteam: audit\ndirection: up\n")

# The purchases GA4 counts: the first of each transaction id in the days read, by day then time (purchases without
# an id all count).
PURCHASES = """
    SELECT * FROM ga4_events
    WHERE event_name = 'purchase' AND event_date BETWEEN $a AND $z
    QUALIFY nullif(nullif(ecommerce.transaction_id, ''), '(not set)') IS NULL
         OR row_number() OVER (PARTITION BY ecommerce.transaction_id ORDER BY event_date, event_timestamp) = 1
"""
USERS = "SELECT count(DISTINCT user_pseudo_id) FROM ga4_events WHERE event_date BETWEEN $a AND $b"
PURCHASERS = f"SELECT count(DISTINCT user_pseudo_id) FROM ({PURCHASES}) WHERE event_date <= $b"
CONVERTED = f"""
    WITH starts AS (
        SELECT user_pseudo_id, min(event_timestamp) AS at FROM ga4_events
        WHERE event_name = 'add_to_cart' AND event_date BETWEEN $a AND $b AND user_pseudo_id IS NOT NULL
        GROUP BY 1
    ), ends AS ({PURCHASES})
    SELECT count(*), count(*) FILTER (WHERE EXISTS (
        SELECT 1 FROM ends WHERE ends.user_pseudo_id = starts.user_pseudo_id
          AND ends.event_timestamp BETWEEN starts.at AND starts.at + 86400000000))
    FROM starts
"""


def ymd(day: date) -> str:
    return day.strftime("%Y%m%d")


def independent(store: Path, sql: str, start: date, end: date) -> tuple:
    # the conversion reads `to` events up to two days after the period, as its window allows
    params = {"a": ymd(start), "b": ymd(end), "z": ymd(end + timedelta(days=2))}
    with duckdb.connect(str(store), read_only=True) as con:
        names = {n for n in params if f"${n}" in sql}
        return con.execute(sql, {n: params[n] for n in names}).fetchone()


def run(*args: object) -> str:
    result = CliRunner().invoke(kpi_app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.stdout


def write_kpis(root: Path) -> Path:
    """The example KPIs plus three distinct-count ones, in `root/kpis`."""
    kpis = root / "kpis"
    shutil.copytree(REPO / "kpis", kpis)
    (kpis / "audit").mkdir()
    for name, body in EXTRA_KPIS.items():
        kpi = name.removesuffix(".yaml")
        (kpis / "audit" / name).write_text(HEADER.format(kpi=kpi, title=kpi.replace("_", " ").title()) + body)
    return kpis


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> tuple[Path, Path]:
    """(KPI folder, store): the example KPIs plus three distinct-count ones, over 60 demo days, refreshed."""
    root = tmp_path_factory.mktemp("periods")
    kpis = write_kpis(root)
    store = root / "warehouse.duckdb"
    run("load", "demo", "--events", 20_000, "--days", DAYS, "--seed", 3, "--end-date", END, "--db", store)
    run("refresh", "--db", store, "--kpis", kpis)
    return kpis, store


def values(project: tuple[Path, Path], *args: object) -> list[dict]:
    kpis, store = project
    return json.loads(run("values", "--db", store, "--kpis", kpis, "--format", "json", *args))


def one(rows: list[dict], kpi: str) -> dict:
    found = [r for r in rows if r["kpi"] == kpi]
    assert len(found) == 1, found
    return found[0]


def test_period_users_and_purchasers_are_distinct_not_sums_of_days(project):
    start, end = date(2026, 3, 4), END  # 28 days
    rows = values(project, "--grain", "period", "--from", start, "--to", end)
    users, = independent(project[1], USERS, start, end)
    purchasers, = independent(project[1], PURCHASERS, start, end)
    assert one(rows, "active_users")["value"] == users
    assert one(rows, "purchasers")["value"] == purchasers
    share = one(rows, "purchaser_share")
    assert (share["numerator"], share["denominator"]) == (purchasers, users)
    assert share["value"] == pytest.approx(purchasers / users)
    assert (one(rows, "active_users")["period_start"], one(rows, "active_users")["days"]) == ("2026-03-04", 28)
    # and a sum of the days would have been wrong: the stored daily values add up to more
    daily = values(project, "--kpi", "active_users", "--from", start, "--to", end)
    assert len(daily) == 28
    assert sum(r["value"] for r in daily) > users * 1.05


def test_period_per_user_conversion_is_distinct(project):
    start, end = date(2026, 2, 1), date(2026, 2, 28)
    started, converted = independent(project[1], CONVERTED, start, end)
    row = one(values(project, "--grain", "period", "--from", start, "--to", end, "--kpi", "cart_to_purchase_1d"),
              "cart_to_purchase_1d")
    assert (row["numerator"], row["denominator"]) == (converted, started)
    assert started > 0 and 0 < converted < started


@pytest.mark.parametrize("grain", ["week", "month"])
def test_weeks_and_months_are_distinct_over_their_days(project, grain):
    start = END - timedelta(days=DAYS - 1)
    rows = [r for r in values(project, "--grain", grain) if r["kpi"] in ("active_users", "purchaser_share")]
    users_rows = [r for r in rows if r["kpi"] == "active_users"]
    assert users_rows[0]["period_start"] == start.isoformat() and users_rows[-1]["period_end"] == END.isoformat()
    for row in rows:
        first, last = date.fromisoformat(row["period_start"]), date.fromisoformat(row["period_end"])
        if grain == "week":
            assert first.weekday() == 0 or first == start
            assert last.weekday() == 6 or last == END
        else:
            assert (first.day == 1 or first == start) and (last == END or (last + timedelta(days=1)).day == 1)
        users, = independent(project[1], USERS, first, last)
        if row["kpi"] == "active_users":
            assert row["value"] == users
        else:
            purchasers, = independent(project[1], PURCHASERS, first, last)
            assert (row["numerator"], row["denominator"]) == (purchasers, users)
    days = sum(r["days"] for r in users_rows)
    assert days == DAYS  # the buckets cover the loaded days exactly once


def test_refresh_stores_the_dashboard_presets_exactly(project):
    _, store = project
    serving = store.with_name("warehouse.serving.duckdb")
    with duckdb.connect(str(serving), read_only=True) as con:
        stored = {(k, s, e): (v, n, d) for k, s, e, v, n, d in con.execute(
            "SELECT kpi_id, period_start, period_end, value, numerator, denominator FROM kpi_period_values "
            "WHERE breakdown = '' AND grain = 'period'").fetchall()}
        kinds = dict(con.execute("SELECT kpi_id, distinct_units FROM kpi_definitions").fetchall())
    assert kinds["active_users"] and kinds["cart_to_purchase_1d"] and not kinds["revenue"]
    assert not any(k == "revenue" for k, _, _ in stored)  # sums keep adding their days
    for days in (7, 28):
        first = END - timedelta(days=days - 1)
        users, = independent(store, USERS, first, END)
        purchasers, = independent(store, PURCHASERS, first, END)
        assert stored[("active_users", first, END)][0] == users
        assert stored[("purchaser_share", first, END)][1:] == (purchasers, users)
    mtd = date(2026, 3, 1)
    assert stored[("active_users", mtd, END)][0] == independent(store, USERS, mtd, END)[0]
    previous = (END - timedelta(days=55), END - timedelta(days=28))  # the previous 28 days
    assert stored[("active_users", *previous)][0] == independent(store, USERS, *previous)[0]


class Days:
    """Some demo days as a load source."""

    source, detail = "demo", "test days"

    def __init__(self, tables: list[tuple[str, object]]) -> None:
        self.tables = dict(tables)

    def plan(self, con: object) -> list[list[str]]:
        return [[day] for day in self.tables]

    def insert(self, con: duckdb.DuckDBPyConnection, batch: list[str]) -> None:
        for day in batch:
            insert_events(con, self.tables[day])  # type: ignore[arg-type]


PERIODS_SQL = "SELECT * EXCLUDE (computed_at) FROM kpi_period_values ORDER BY ALL"


def _load_and_refresh(store: Path, catalog, plan, tables, full: bool = False) -> None:
    """Load the demo days `tables` into `store`, then refresh it (in full with `full`)."""
    con = connect_store(store)
    try:
        run_load(con, Days(tables))  # type: ignore[arg-type]
        refresh_kpis(con, catalog, plan, full=full)
    finally:
        con.close()


def test_a_new_day_moves_the_presets_and_updates_its_week_incrementally(tmp_path):
    catalog = validate_paths([write_kpis(tmp_path)]).catalog
    plan = compile_plan(catalog)
    days = list(iter_demo_days(events=6_000, days=20, seed=9, end_date=END))
    store = tmp_path / "warehouse.duckdb"

    def load_and_refresh(tables, full=False):
        _load_and_refresh(store, catalog, plan, tables, full)
        with duckdb.connect(str(store), read_only=True) as con:
            return con.execute(PERIODS_SQL).fetchall(), {
                (k, s, e): v for k, s, e, v in con.execute(
                    "SELECT kpi_id, period_start, period_end, value FROM kpi_period_values "
                    "WHERE breakdown = '' AND grain = $g", {"g": "period"}).fetchall()}

    _, before = load_and_refresh(days[:-1])
    yesterday = END - timedelta(days=1)
    old_week = (yesterday - timedelta(days=6), yesterday)
    assert before[("active_users", *old_week)] == independent(store, USERS, *old_week)[0]
    after_rows, after = load_and_refresh(days[-1:])
    new_week = (END - timedelta(days=6), END)
    assert ("active_users", *old_week) not in after  # the presets end at the new last day
    assert after[("active_users", *new_week)] == independent(store, USERS, *new_week)[0]
    assert after[("active_users", *new_week)] != before[("active_users", *old_week)]
    # the calendar week holding the new day, recomputed: exact over its days
    monday = END - timedelta(days=END.weekday())
    with duckdb.connect(str(store), read_only=True) as con:
        week = con.execute("SELECT value FROM kpi_period_values WHERE kpi_id = 'active_users' AND grain = 'week' "
                           "AND breakdown = '' AND period_start = $s AND period_end = $e",
                           {"s": monday, "e": END}).fetchall()
    assert week == [(independent(store, USERS, monday, END)[0],)]
    # refreshing again with nothing loaded keeps every period value, computed_at included
    with duckdb.connect(str(store), read_only=True) as con:
        stamped = con.execute("SELECT * FROM kpi_period_values ORDER BY ALL").fetchall()
    load_and_refresh([])
    with duckdb.connect(str(store), read_only=True) as con:
        assert con.execute("SELECT * FROM kpi_period_values ORDER BY ALL").fetchall() == stamped
    # incremental gives exactly what a full recomputation gives
    full_rows, _ = load_and_refresh([], full=True)
    assert after_rows == full_rows


def _stored_weeks(store: Path) -> dict[str, list[tuple[date, date, float]]]:
    with duckdb.connect(str(store), read_only=True) as con:
        rows = con.execute("SELECT kpi_id, period_start, period_end, value FROM kpi_period_values "
                           "WHERE grain = 'week' AND breakdown = '' ORDER BY ALL").fetchall()
    out: dict[str, list[tuple[date, date, float]]] = {}
    for kpi, start, end, value in rows:
        out.setdefault(kpi, []).append((start, end, value))
    return out


def test_weeks_follow_the_kpis_weekly_trend(project, tmp_path):
    """Weeks are stored for a KPI whose trend is weekly (`time_grain: week`), months for every distinct KPI; a
    KPI turned weekly gets every week on the next refresh (nothing new loaded), exact; one turned daily, none."""
    kpis, store = project
    weeks = _stored_weeks(store)
    assert set(weeks) == {"active_users"}  # the only KPI of the folder with a weekly trend
    assert sum((end - start).days + 1 for start, end, _ in weeks["active_users"]) == DAYS
    for start, end, value in weeks["active_users"]:
        assert value == independent(store, USERS, start, end)[0]
    with duckdb.connect(str(store), read_only=True) as con:
        monthly = {k for (k,) in con.execute("SELECT DISTINCT kpi_id FROM kpi_period_values WHERE grain = 'month'")
                   .fetchall()}
    assert {"active_users", "purchasers", "purchaser_share", "sessions"} <= monthly
    # purchasers turned weekly, active users daily: the next refresh, with nothing new loaded, follows
    shutil.copytree(kpis, tmp_path / "kpis")
    copy = tmp_path / "warehouse.duckdb"
    copy_store(store, copy)
    for name, grain in (("purchasers", "week"), ("active_users", "day")):
        path = tmp_path / "kpis" / "audit" / f"{name}.yaml"
        text = path.read_text().replace("time_grain: week\n", "")
        path.write_text(text + ("time_grain: week\n" if grain == "week" else ""))
    run("refresh", "--db", copy, "--kpis", tmp_path / "kpis")
    weeks = _stored_weeks(copy)
    assert set(weeks) == {"purchasers"}
    assert sum((end - start).days + 1 for start, end, _ in weeks["purchasers"]) == DAYS
    for start, end, value in weeks["purchasers"]:
        assert value == independent(copy, PURCHASERS, start, end)[0], (start, end)
    assert any(value > 0 for *_, value in weeks["purchasers"])


def test_a_sunday_is_not_shifted_from_a_week_only_the_weekly_kpi_has(tmp_path):
    """On a Sunday the last 7 days are a calendar week; the week's Monday-to-Saturday part is stored for the weekly
    KPI only, so it is no base to shift the other KPIs from: incremental equals full, each range exact."""
    sunday = date(2026, 3, 29)
    catalog = validate_paths([write_kpis(tmp_path)]).catalog
    plan = compile_plan(catalog)
    days = list(iter_demo_days(events=6_000, days=20, seed=11, end_date=sunday))
    store = tmp_path / "warehouse.duckdb"
    for tables in (days[:-1], days[-1:]):
        _load_and_refresh(store, catalog, plan, tables)
    copy = tmp_path / "full.duckdb"
    copy_store(store, copy)
    con = connect_store(copy)
    try:
        refresh_kpis(con, catalog, plan, full=True)
    finally:
        con.close()
    with duckdb.connect(str(store), read_only=True) as con:
        incremental = con.execute(PERIODS_SQL).fetchall()
        week = (sunday - timedelta(days=6), sunday)
        stored = dict(con.execute("SELECT kpi_id, numerator FROM kpi_period_values WHERE grain = 'period' "
                                  "AND breakdown = '' AND period_start = $s AND period_end = $e",
                                  {"s": week[0], "e": week[1]}).fetchall())
    with duckdb.connect(str(copy), read_only=True) as con:
        assert incremental == con.execute(PERIODS_SQL).fetchall()
    assert stored["active_users"] == independent(store, USERS, *week)[0]
    assert stored["purchasers"] == independent(store, PURCHASERS, *week)[0] > 0


def test_period_grains_say_what_they_cannot_do(project):
    kpis, store = project
    runner = CliRunner()
    result = runner.invoke(kpi_app, ["values", "--db", str(store), "--kpis", str(kpis), "--grain", "week",
                                     "--kpi", "active_user"])
    assert result.exit_code == 1 and "No active KPI `active_user`" in result.output
    assert "active_users" in result.output  # did you mean
    result = runner.invoke(kpi_app, ["values", "--db", str(store), "--kpis", str(kpis), "--grain", "month",
                                     "--source", "ga4_api"])
    assert result.exit_code == 2 and "--grain day" in result.output
    result = runner.invoke(kpi_app, ["values", "--db", str(store), "--kpis", str(kpis), "--grain", "period",
                                     "--from", "2026-03-10", "--to", "2026-03-01"])
    assert result.exit_code == 2 and "before --from" in result.output
