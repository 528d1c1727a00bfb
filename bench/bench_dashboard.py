"""Benchmark: the overview's first render against reading the rows it shows straight from DuckDB.

50 KPIs × 2 years of daily values × 3 breakdowns (5 values each) in a serving database built to the
contract. The render is the app's own run (AppTest) with empty caches: what a visitor pays after a
refresh, with the app served as `kpi dashboard` serves it: no usage statistics, and its two scripts compiled
once per process (a server's runs share its Runtime's script cache; AppTest makes a new one per run and
recompiles them, 5 ms a run here, so the bench hands every run one cache). The baseline reads, on one fresh read-only connection, every row the overview needs into
pandas: the file's facts (contract version, data span), the KPI definitions and targets, each KPI's daily
totals on the days of the period and of its two comparison periods (one source a day, with GA4's
caveats), the events' health over the period, the stored period values, the value findings, and the
breakdown values the filter offers. Render and read alternate, round after round; the medians of their
wall times and of their CPU times (steadier on a shared machine; the render's without AppTest's own
polling thread) and the ratios are printed (goal: the render ≤ 1.5× the read).

    python bench/bench_dashboard.py [--kpis 50] [--days 730] [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "dashboards"))
sys.path.insert(0, str(REPO))

import duckdb  # noqa: E402
import streamlit as st  # noqa: E402
from fixture_warehouse import build_serving_db, generic_kpis  # noqa: E402
from streamlit import config  # noqa: E402
from streamlit.testing.v1 import AppTest, app_test, local_script_runner  # noqa: E402

from dashboards import data  # noqa: E402
from dashboards.comparisons import other_periods  # noqa: E402
from warehouse.periods import comparison_period, resolve_period  # noqa: E402

APP = REPO / "dashboards" / "streamlit_app.py"
GOAL_RATIO = 1.5
CARDS = 12  # the overview shows the 12 most urgent KPIs (scorecard.MAX_CARDS)

# The baseline's statements: plain SQL for the same rows, written here rather than taken from the app.
FACTS: list[tuple[str, list[object]]] = [
    ("SELECT value FROM warehouse_info WHERE key IN ('contract_version', 'refreshed_at', 'refresh_id', "
     "'provisional_days')", []),
    ("SELECT count(*) FROM kpi_definitions", []),
    ("SELECT min(date), max(date), count(*) FROM kpi_values WHERE breakdown = ''", []),
]
CATALOG: list[tuple[str, list[object]]] = [
    ("SELECT * FROM kpi_definitions ORDER BY kpi_id", []),
    ("SELECT kpi_id, valid_from, value FROM kpi_targets ORDER BY kpi_id, valid_from", []),
    ("SELECT DISTINCT breakdown, breakdown_value FROM kpi_values WHERE breakdown <> '' ORDER BY 1, 2", []),
    ("SELECT * FROM kpi_period_values WHERE breakdown = ''", []),
    ("SELECT * FROM kpi_value_findings", []),
]
TOTALS = (
    "SELECT v.kpi_id, v.date, v.value, v.numerator, v.denominator, v.definition_hash, v.source, c.caveats "
    "FROM kpi_values v LEFT JOIN kpi_value_caveats c USING (kpi_id, date, breakdown, breakdown_value, source) "
    "WHERE v.breakdown = '' AND (v.date BETWEEN ? AND ? OR v.date BETWEEN ? AND ? OR v.date BETWEEN ? AND ?) "
    "QUALIFY row_number() OVER (PARTITION BY v.kpi_id, v.date ORDER BY v.source = 'ga4_export' DESC, v.source) = 1 "
    "ORDER BY v.kpi_id, v.date"
)
HEALTH = (
    "SELECT event_name, sum(events), sum(invalid_events), bool_and(in_spec) FROM event_quality "
    "WHERE date BETWEEN ? AND ? GROUP BY event_name"
)


def shown_periods(period: str, data_end: date) -> list:
    """The overview's period and the periods its cards compare with (previous, and the same one last year)."""
    current = resolve_period(period, data_end)
    return [current, comparison_period(current, period, "previous"), *other_periods(current, period, "previous")]


def read_once(path: Path, period: str, data_end: date) -> tuple[float, int]:
    """Seconds to fetch into pandas, on one fresh read-only connection, the rows the overview needs; and how
    many daily totals that is."""
    periods = shown_periods(period, data_end)
    spans = [day for p in periods for day in (p.start, p.end)]
    statements = [*FACTS, *CATALOG, (TOTALS, spans), (HEALTH, [periods[0].start, periods[0].end]),
                  ("SELECT * FROM event_status", [])]
    started = time.perf_counter()
    with duckdb.connect(str(path), read_only=True) as con:
        frames = [con.sql(sql, params=params).to_arrow_table().to_pandas(date_as_object=True)
                  for sql, params in statements]
    elapsed = time.perf_counter() - started
    return elapsed, len(frames[len(FACTS) + len(CATALOG)])


def render_once(at: AppTest) -> float:
    """Seconds for one run of the overview with empty caches (the AppTest already started: its own start-up
    scans installed packages for components, which a running server does once)."""
    st.cache_data.clear()
    started = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - started
    if at.exception or len(at.metric) != CARDS:
        raise SystemExit(f"overview did not render: {at.exception or len(at.metric)} cards")
    return elapsed


def compile_once() -> None:
    """Every AppTest run from now on shares one ScriptCache, as a server's runs share its Runtime's."""
    shared = app_test.ScriptCache()
    app_test.ScriptCache = local_script_runner.ScriptCache = lambda: shared  # type: ignore[assignment,misc]


def new_apptest(period: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["period"] = period
    return at


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kpis", type=int, default=50)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--breakdowns", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.serving.duckdb"
        end = date(2026, 10, 28)
        start = end - timedelta(days=args.days - 1)
        built = time.perf_counter()
        fixture = build_serving_db(path, generic_kpis(args.kpis, args.breakdowns), start=start, end=end)
        with duckdb.connect(str(path), read_only=True) as con:
            tables = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        assert not tables & {"ga4_events", "ga4_report_rows"}, "the serving database must hold no raw events"
        print(
            f"serving db: {args.kpis} KPIs × {args.days} days × {args.breakdowns} breakdowns = "
            f"{len(fixture.values):,} kpi_values rows, {path.stat().st_size / 1e6:.1f} MB "
            f"(built in {time.perf_counter() - built:.1f} s; raw event tables: none)"
        )
        os.environ[data.SERVING_ENV] = str(path)
        config.set_option("browser.gatherUsageStats", False)  # as `kpi dashboard` serves it (dashboards/cli.py)

        started = time.perf_counter()
        new_apptest("28d").run()  # imports, the harness's start-up, the first script compile
        print(f"first render in a fresh process (imports and AppTest start-up included): "
              f"{time.perf_counter() - started:.3f} s")
        compile_once()
        print(f"{'view':<5} {'rows read':>9} {'render':>8} {'read':>8} {'ratio':>6}   {'CPU: render':>11} "
              f"{'read':>6} {'ratio':>6}   medians of {args.rounds} alternating rounds; goal ≤ {GOAL_RATIO}×")
        worst = 0.0
        for period in ("28d", "90d"):
            at = new_apptest(period)
            at.run()
            renders, reads, render_cpu, read_cpu = [], [], [], []
            for _ in range(args.rounds):
                # The app's CPU: the process's, less this thread's, where AppTest polls for the run's end and
                # parses what it sent (a browser's work); DuckDB's threads count, as in the read.
                cpu, harness = time.process_time(), time.thread_time()
                renders.append(render_once(at))
                render_cpu.append(time.process_time() - cpu - (time.thread_time() - harness))
                cpu = time.process_time()
                seconds, rows = read_once(path, period, end)
                reads.append(seconds)
                read_cpu.append(time.process_time() - cpu)
            render, read = statistics.median(renders), statistics.median(reads)
            render_cpu_s, read_cpu_s = statistics.median(render_cpu), statistics.median(read_cpu)
            worst = max(worst, render / read)
            print(f"{period:<5} {rows:>9,} {render:>6.3f} s {read:>6.3f} s {render / read:>5.2f}×   "
                  f"{render_cpu_s:>9.3f} s {read_cpu_s:>6.3f} s {render_cpu_s / read_cpu_s:>5.2f}×")
        at = new_apptest("28d")
        at.run()
        started = time.perf_counter()
        at.run()
        print(f"re-run with warm caches: {time.perf_counter() - started:.3f} s")
        verdict = "meets" if worst <= GOAL_RATIO else "misses"
        print(f"result: worst wall-time ratio {worst:.2f}× the read ({verdict} the {GOAL_RATIO}× goal; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
