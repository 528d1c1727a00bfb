"""Issue 10 §6: cohorts that start at a user's first event ever, and the `is_set` filter, checked as an auditor would.

The events are GA4-export-shaped rows written here; every expected number is computed in this file with plain
Python over those rows (never by our SQL): a user's first matching event of all the data, the purchases whose
`transaction_id` is there (not missing, not empty, not `(not set)`). Then `kpi refresh` over two loads (with a
refresh between them), one full load, and the generated SQL over a later date range must all agree with it.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from generator.parse.catalog import load_catalog
from generator.plan.queries import compile_plan
from generator.rules.validate import validate_paths
from generator.sql import render_sql
from warehouse.connection import connect_store
from warehouse.refresh import refresh_kpis
from warehouse.schema.events import ARROW_SCHEMA
from warehouse.sources.arrow_days import ArrowDaysSource
from warehouse.store import run_load

REPO = Path(__file__).resolve().parents[2]
DAYS = [f"202403{d:02d}" for d in range(1, 9)]  # 1 … 8 March
WINDOW = 2 * 86400

# (user, day index, hour, event, params); user None: a cookieless ping (consent denied)
EVENTS: list[tuple[str | None, int, int, str, dict[str, Any]]] = [
    ("u1", 0, 9, "sign_up", {"method": "google"}),
    ("u1", 1, 10, "purchase", {"transaction_id": "T1", "value": 10}),
    ("u1", 5, 11, "sign_up", {"method": "email"}),  # again, days later: not a new member
    ("u1", 5, 12, "purchase", {"transaction_id": "T2", "value": 20}),
    ("u2", 1, 8, "purchase", {"transaction_id": "(not set)", "value": 5}),  # no valid id: not a customer yet
    ("u2", 2, 8, "sign_up", {"method": "email"}),
    ("u2", 2, 8, "sign_up", {"method": "email"}),  # sent twice
    ("u2", 3, 9, "purchase", {"transaction_id": "", "value": 5}),
    ("u2", 4, 7, "purchase", {"transaction_id": "T3", "value": 30}),  # first valid purchase: 5 March
    ("u3", 4, 23, "sign_up", {"method": "google"}),
    ("u3", 6, 22, "purchase", {"transaction_id": "T4", "value": 40}),  # within 2 days of the sign-up
    ("u4", 0, 12, "purchase", {"value": 15}),  # no transaction_id at all
    ("u4", 3, 12, "purchase", {"transaction_id": "T5", "value": 15}),
    ("u4", 4, 12, "sign_up", {"method": "email"}),
    ("u4", 4, 18, "purchase", {"transaction_id": "T10", "value": 15}),  # after the sign-up, not a first purchase
    ("u4", 7, 13, "purchase", {"transaction_id": 6006, "value": 15}),  # a numeric id is an id
    ("u5", 1, 14, "sign_up", {"method": "google"}),
    ("u5", 4, 14, "sign_up", {"method": "google"}),  # refreshed in the second half: still not new
    ("u5", 4, 15, "purchase", {"transaction_id": "T7", "value": 25}),
    (None, 3, 10, "sign_up", {"method": "email"}),
    (None, 3, 10, "purchase", {"transaction_id": "T8", "value": 9}),
    ("u6", 6, 9, "sign_up", {"method": "email"}),
    ("u6", 7, 20, "purchase", {"transaction_id": "(not set)", "value": 12}),
    ("u7", 3, 6, "page_view", {}),
    ("u7", 7, 6, "sign_up", {"method": "email"}),
    ("u7", 7, 7, "purchase", {"transaction_id": "T9", "value": 50}),
]

KPIS = {
    "new_sign_ups": """
measure:
  users_with: {event: sign_up, first_ever: true}
breakdowns: [device_category]
""",
    "new_customers": """
measure:
  users_with:
    event: purchase
    first_ever: true
    where:
      - {param: transaction_id, is_set: true}
""",
    "new_signup_purchase_2d": """
measure:
  conversion:
    from: {event: sign_up, first_ever: true}
    to: purchase
    within: 2d
format: percent
""",
    "new_signup_first_purchase_2d": """
measure:
  conversion:
    from: {event: sign_up, first_ever: true}
    to: {event: purchase, first_ever: true, where: [{param: transaction_id, is_set: true}]}
    within: 2d
format: percent
""",
    "purchases_with_id": """
measure:
  count:
    event: purchase
    where:
      - {param: transaction_id, is_set: true}
""",
    "sign_ups_without_country": """
measure:
  count:
    event: sign_up
    where:
      - {dimension: country, is_set: false}
""",
    "purchases_without_id": """
measure:
  count:
    event: purchase
    where:
      - {param: transaction_id, is_set: false}
""",
}


COUNTRY = {"u6": None, "u7": "", None: "(not set)"}  # everyone else: Germany


def _micros(day: int, hour: int, minute: int = 0) -> int:
    when = dt.datetime(2024, 3, 1 + day, hour, minute, tzinfo=dt.UTC)
    return int(when.timestamp()) * 1_000_000


def _param(key: str, value: Any) -> dict[str, Any]:
    typed: dict[str, Any] = {"string_value": None, "int_value": None, "float_value": None, "double_value": None}
    typed["int_value" if isinstance(value, int) else "string_value"] = value
    return {"key": key, "value": typed}


def _rows() -> list[dict[str, Any]]:
    out = []
    for i, (user, day, hour, name, params) in enumerate(EVENTS):
        session = {"ga_session_id": 1_700_000_000 + day * 100 + hour} if user else {}
        tid = params.get("transaction_id")
        out.append({
            "event_date": DAYS[day], "event_timestamp": _micros(day, hour, i % 7), "event_name": name,
            "event_params": [_param(k, v) for k, v in {**session, **params}.items()],
            "user_pseudo_id": f"{user}.1709000000" if user else None,
            "device": {"category": "mobile" if user in ("u2", "u5") else "desktop"},
            "geo": {"country": COUNTRY.get(user, "Germany")}, "platform": "WEB",
            "ecommerce": {"transaction_id": None if tid is None else str(tid), "purchase_revenue": float(params["value"]),
                          "total_item_quantity": 1} if name == "purchase" else None,
        })
    return out


def _days(which: list[str]) -> dict[str, pa.Table]:
    rows = _rows()
    return {d: pa.Table.from_pylist([r for r in rows if r["event_date"] == d], schema=ARROW_SCHEMA) for d in which}


# --- the expected numbers, independently --------------------------------------------------------------

def _has_id(params: dict[str, Any]) -> bool:
    value = params.get("transaction_id")
    return value is not None and str(value) not in ("", "(not set)")


def _firsts(event: str, keep=lambda params: True) -> dict[str, tuple[int, int]]:
    """Each user's first matching event of all the data: user → (day index, timestamp)."""
    firsts: dict[str, tuple[int, int]] = {}
    for i, (user, day, hour, name, params) in enumerate(EVENTS):
        if user is None or name != event or not keep(params):
            continue
        at = _micros(day, hour, i % 7)
        if user not in firsts or at < firsts[user][1]:
            firsts[user] = (day, at)
    return firsts


def expected(kpi: str, days: list[str]) -> dict[str, float]:
    """The KPI's total per day (YYYYMMDD) over `days`; days with nothing to count are left out."""
    wanted = {DAYS.index(d) for d in days}
    out: dict[str, float] = defaultdict(float)
    if kpi in ("new_sign_ups", "new_customers"):
        firsts = _firsts("sign_up") if kpi == "new_sign_ups" else _firsts("purchase", _has_id)
        for day, _at in firsts.values():
            if day in wanted:
                out[DAYS[day]] += 1
    elif kpi in ("new_signup_purchase_2d", "new_signup_first_purchase_2d"):
        starts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        first_purchases = _firsts("purchase", _has_id)
        for user, (day, at) in _firsts("sign_up").items():
            if day not in wanted:
                continue
            if kpi == "new_signup_purchase_2d":
                bought = any(u == user and n == "purchase" and at <= _micros(d, h, i % 7) <= at + WINDOW * 1_000_000
                             for i, (u, d, h, n, _p) in enumerate(EVENTS))
            else:  # their first purchase ever (with an id) falls in the window
                bought = user in first_purchases and at <= first_purchases[user][1] <= at + WINDOW * 1_000_000
            starts[DAYS[day]][0] += bought
            starts[DAYS[day]][1] += 1
        return {d: converted / total for d, (converted, total) in starts.items()}
    elif kpi == "sign_ups_without_country":
        for user, day, _hour, name, _params in EVENTS:
            if name == "sign_up" and day in wanted and COUNTRY.get(user, "Germany") in (None, "", "(not set)"):
                out[DAYS[day]] += 1
    else:
        wants_id = kpi == "purchases_with_id"
        for _user, day, _hour, name, params in EVENTS:
            if name == "purchase" and day in wanted and _has_id(params) == wants_id:
                out[DAYS[day]] += 1
    return dict(out)


# --- the product ----------------------------------------------------------------------------------------

@pytest.fixture
def kpis(tmp_path: Path) -> Path:
    folder = tmp_path / "kpis"
    folder.mkdir()
    shutil.copy(REPO / "kpis" / "events.yaml", folder / "events.yaml")
    for kid, measure in KPIS.items():
        (folder / f"{kid}.yaml").write_text(
            f"version: 1\nkpi: {kid}\ntitle: {kid}\ndescription: A test KPI.\nobjective: Test\n"
            f"owner: test@shop.example\nteam: test\n{measure.lstrip()}", encoding="utf-8")
    report = validate_paths([folder], relative_to=folder).report
    assert not [i for i in report.issues if i.level.value == "error"], report.issues
    return folder


def _plan(kpis: Path):
    catalog = load_catalog([kpis]).catalog
    return catalog, compile_plan(catalog)


def _stored(db: Path, kpi: str) -> dict[str, float]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT strftime(date, '%Y%m%d'), value FROM kpi_values WHERE kpi_id = $k "
                           "AND breakdown = '' AND value IS NOT NULL AND value <> 0", {"k": kpi}).fetchall()
    return dict(rows)


def _refresh(db: Path, kpis: Path, days: list[str]) -> None:
    catalog, plan = _plan(kpis)
    con = connect_store(db)
    try:
        run_load(con, ArrowDaysSource(_days(days), "test days"))
        refresh_kpis(con, catalog, plan)
    finally:
        con.close()


def _nonzero(values: dict[str, float]) -> dict[str, float]:
    return {d: v for d, v in values.items() if v}


@pytest.mark.parametrize("kpi", list(KPIS))
def test_two_refreshes_equal_an_independent_computation_and_one_full_load(kpis: Path, tmp_path: Path, kpi: str) -> None:
    halves, whole = tmp_path / "halves.duckdb", tmp_path / "whole.duckdb"
    _refresh(halves, kpis, DAYS[:4])
    _refresh(halves, kpis, DAYS[4:])  # u1 and u5 sign up again here: their first sign-up was refreshed before
    _refresh(whole, kpis, DAYS)
    want = _nonzero(expected(kpi, DAYS))
    assert want, "the test data must give this KPI something to count"
    assert _stored(halves, kpi) == pytest.approx(want)
    assert _stored(whole, kpi) == pytest.approx(want)


def test_the_first_ever_sign_ups_are_the_users_and_days_worked_out_by_hand() -> None:
    # the independent computation itself, on the cases the events were written for
    assert expected("new_sign_ups", DAYS) == {"20240301": 1, "20240302": 1, "20240303": 1, "20240305": 2,
                                              "20240307": 1, "20240308": 1}
    assert expected("new_customers", DAYS) == {"20240302": 1, "20240304": 1, "20240305": 2, "20240307": 1,
                                               "20240308": 1}
    assert expected("purchases_without_id", DAYS) == {"20240302": 1, "20240301": 1, "20240304": 1, "20240308": 1}


@pytest.mark.parametrize("dialect", ["duckdb", "bigquery"])
@pytest.mark.parametrize("kpi", list(KPIS))
def test_generated_sql_over_a_later_range_looks_back_before_start_date(kpis: Path, kpi: str, dialect: str) -> None:
    from tests.generator.sql_support import bigquery_as_duckdb

    _catalog, plan = _plan(kpis)
    sql = render_sql(plan.kpis[kpi], plan, dialect)  # type: ignore[arg-type]
    if dialect == "bigquery":
        sql = bigquery_as_duckdb(sql)
    con = duckdb.connect()
    con.register("rows", pa.Table.from_pylist(_rows(), schema=ARROW_SCHEMA))
    con.execute("CREATE TABLE events AS SELECT * FROM rows")
    rows = con.execute(sql, {"start_date": DAYS[4], "end_date": DAYS[7]}).fetchall()
    got = {day.strftime("%Y%m%d"): value for day, breakdown, _v, _n, _d, value in rows if breakdown == ""}
    assert _nonzero(got) == pytest.approx(_nonzero(expected(kpi, DAYS[4:])))


def test_a_period_counts_each_new_member_once(kpis: Path) -> None:
    _catalog, plan = _plan(kpis)
    sql = render_sql(plan.kpis["new_sign_ups"], plan, "duckdb", bucket="period")
    con = duckdb.connect()
    con.register("rows", pa.Table.from_pylist(_rows(), schema=ARROW_SCHEMA))
    con.execute("CREATE TABLE events AS SELECT * FROM rows")
    rows = con.execute(sql, {"start_date": DAYS[2], "end_date": DAYS[7]}).fetchall()
    total = next(value for _day, breakdown, _v, _n, _d, value in rows if breakdown == "")
    firsts = _firsts("sign_up")
    assert total == sum(1 for day, _at in firsts.values() if 2 <= day <= 7)


def _periods(db: Path, kpi: str) -> dict[tuple[str, str], float]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT strftime(period_start, '%Y%m%d'), strftime(period_end, '%Y%m%d'), value "
                           "FROM kpi_period_values WHERE kpi_id = $k AND grain = 'period' AND breakdown = ''",
                           {"k": kpi}).fetchall()
    return {(a, b): v for a, b, v in rows}


@pytest.mark.parametrize("late", [4, 1])
@pytest.mark.parametrize("kpi", ["new_sign_ups", "new_customers", "new_signup_purchase_2d"])
def test_days_loaded_late_make_later_days_recount(kpis: Path, tmp_path: Path, kpi: str, late: int) -> None:
    """A backfill: the last days are loaded and refreshed first, the first `late` after. A user's first sign-up
    is then on an earlier day, so a later day (or period) refreshed before must no longer count them."""
    db = tmp_path / "backfill.duckdb"
    _refresh(db, kpis, DAYS[late:])
    _refresh(db, kpis, DAYS[:late])
    assert _stored(db, kpi) == pytest.approx(_nonzero(expected(kpi, DAYS)))
    if kpi == "new_signup_purchase_2d":
        return  # a ratio's period value is not a count of days; the counts below say enough
    periods = _periods(db, kpi)
    assert periods, "kpi refresh stores the dashboard's periods"
    for (start, end), value in periods.items():
        inside = [d for d in DAYS if start <= d <= end]
        assert value == sum(expected(kpi, inside).values()), (start, end)
