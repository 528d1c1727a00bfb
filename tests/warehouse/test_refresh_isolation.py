"""Issue 12 §2: a KPI whose statement fails is reported (KPI, file, line, the database's message) and keeps
its previous values; every other KPI refreshes; `kpi refresh` exits 1.

The failing KPIs are ones the old `kpi validate` let through (validate now rejects them): here they reach
refresh by loading the files without the rules, as a KPI set validated by an older KPI Bridge would.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from generator.parse.catalog import load_catalog
from generator.plan.queries import compile_plan
from generator.rules.validate import validate_paths
from warehouse.connection import connect_store
from warehouse.refresh import refresh_kpis
from warehouse.serving import publish_serving, serving_path
from warehouse.sources.arrow_days import ArrowDaysSource
from warehouse.sources.demo import iter_demo_days
from warehouse.store import run_load

REPO = Path(__file__).resolve().parents[2]
DEMO = {"events": 4_000, "days": 6, "seed": 3, "end_date": date(2024, 2, 29)}
BAD = {
    # INT32 conversion in DuckDB (the window in seconds does not fit)
    "cart_to_purchase_1d": ("conversion", "within: 1d", "within: 99999999999999999999d"),
    # `inf is not a finite number` while writing the SQL
    "email_sign_ups": ("filter", "{param: method, equals: email}", "{param: method, gte: 1e309}"),
}



def Days(tables):  # noqa: N802 - reads like the load source it returns
    return ArrowDaysSource(tables, "test days")


def compiled(kpis: Path):
    result = load_catalog([kpis])  # the files as parsed, without the rules
    return result.catalog, compile_plan(result.catalog)


def values(db: Path, kpi: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT * FROM kpi_values WHERE kpi_id = $k ORDER BY ALL", {"k": kpi}).fetchall()


@pytest.fixture
def project(tmp_path: Path):
    kpis = tmp_path / "kpis"
    shutil.copytree(REPO / "kpis", kpis)
    db = tmp_path / "warehouse.duckdb"
    days = list(iter_demo_days(**DEMO))
    con = connect_store(db)
    try:
        run_load(con, Days(days[:-1]))
        catalog, plan = compiled(kpis)
        refresh_kpis(con, catalog, plan)
        publish_serving(con, db, catalog, plan)
        run_load(con, Days(days[-1:]))  # a new day: every KPI recomputes it
    finally:
        con.close()
    return kpis, db


def break_kpis(kpis: Path) -> None:
    for kid, (_what, old, new) in BAD.items():
        path = next(kpis.rglob(f"{kid}.yaml"))
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new))


def test_one_failing_kpi_keeps_its_values_and_the_others_refresh(project) -> None:
    kpis, db = project
    before = {kid: values(db, kid) for kid in BAD}
    assert all(before.values())
    others_before = values(db, "revenue")
    break_kpis(kpis)
    catalog, plan = compiled(kpis)
    con = connect_store(db)
    try:
        summary = refresh_kpis(con, catalog, plan)
        publish_serving(con, db, catalog, plan)
    finally:
        con.close()
    assert sorted(f.kpi_id for f in summary.failed) == sorted(BAD)
    by_kpi = {f.kpi_id: f for f in summary.failed}
    conv = by_kpi["cart_to_purchase_1d"]
    assert conv.file.endswith("cart_to_purchase_1d.yaml") and conv.line == 9
    assert "INT32" in conv.message or "out of range" in conv.message.lower()
    assert "inf" in by_kpi["email_sign_ups"].message
    for line in summary.failure_lines():
        assert line.count("\n") == 0 and "keeps its previous values" in line
    for kid in BAD:  # kept, untouched
        assert values(db, kid) == before[kid]
    assert values(db, "revenue") != others_before  # the others recomputed, the new day included
    assert max(r[1] for r in values(db, "revenue")) == date(2024, 2, 29)
    with duckdb.connect(str(serving_path(db)), read_only=True) as con:
        served = con.execute("SELECT count(*) FROM kpi_values WHERE kpi_id = 'cart_to_purchase_1d'").fetchone()[0]
    assert served == len(before["cart_to_purchase_1d"])



def test_validate_now_rejects_both_at_their_lines(project) -> None:
    kpis, _db = project
    break_kpis(kpis)
    issues = validate_paths([kpis]).report.errors
    assert sorted((i.code, Path(i.location.file).name, i.location.line) for i in issues) == [
        ("KB611", "email_sign_ups.yaml", 13), ("KB612", "cart_to_purchase_1d.yaml", 13)]


def test_the_attribution_methods_counted_with_the_kpis_never_fail_a_kpi(project) -> None:
    """The KPIs' statement also counts the attribution methods (`methods=`): when that fused statement fails
    (here a session dimension no statement can read), the KPIs' rows still come, from the statement without the
    methods, no KPI is reported, and no methods are returned (the refresh counts them on their own)."""
    from warehouse.refresh_isolation import compute_isolated

    kpis, db = project
    catalog, plan = compiled(kpis)
    con = connect_store(db)
    try:
        ids = list(plan.kpis)
        plain, none_failed, no_methods = compute_isolated(con, catalog, plan, ids, "20240224", "20240229")
        tables, failures, methods = compute_isolated(con, catalog, plan, ids, "20240224", "20240229",
                                                     ["no_such_dimension"], 10)
        fused, _, counted = compute_isolated(con, catalog, plan, ids, "20240224", "20240229", ["channel"], 10)
    finally:
        con.close()
    assert none_failed == [] and no_methods is None
    assert failures == [] and methods is None
    assert tables[0].to_pylist() == plain[0].to_pylist() == fused[0].to_pylist()
    assert counted is not None and counted.num_rows > 0 and set(counted.column("kpi_id").to_pylist()) == {None}


def test_a_refresh_reads_the_kept_session_days_and_says_so_when_it_cannot(project) -> None:
    """The KPIs' statement reads the kept session days (`session_facts.py`). Should it fail, the refresh runs it
    again from the events (the same numbers, more slowly) and says so (`RefreshSummary.retried`): a fast path
    that breaks never hides behind the slow one. A refresh of the demo's KPIs retries nothing; with the kept
    clicks' table unreadable (a column renamed), every statement is retried, and the numbers are the same."""
    from warehouse.refresh_isolation import compute_isolated
    from warehouse.session_facts import facts_ready

    kpis, db = project
    catalog, plan = compiled(kpis)
    con = connect_store(db)
    try:
        summary = refresh_kpis(con, catalog, plan)
        assert facts_ready(con, plan)
        ids = list(plan.kpis)
        from_events, _, _ = compute_isolated(con, catalog, plan, ids, "20240224", "20240229")
        con.execute("ALTER TABLE kept_clicks RENAME COLUMN click TO renamed")
        retried: list[str] = []
        tables, failures, _ = compute_isolated(con, catalog, plan, ids, "20240224", "20240229", facts=True,
                                               retried=retried)
    finally:
        con.close()
    assert summary.retried == [] and summary.failed == []
    assert failures == [] and len(retried) == 1
    assert "2024-02-24 to 2024-02-29" in retried[0] and "computed from the events" in retried[0]
    assert tables[0].to_pylist() == from_events[0].to_pylist()
