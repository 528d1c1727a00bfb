"""Benchmark `kpi refresh` against the floor of scanning its columns once, a naive loop, and one new day.

    python bench/bench_refresh.py                   # 10M demo events over 90 days
    python bench/bench_refresh.py --events 1000000

The demo store (90 days loaded, not refreshed) and the 91st day (an export file) are generated once into
bench/results/ (git-ignored) and reused. Each run copies the store, then measures, each in a child process
(so its peak memory, ru_maxrss, is its own):

- floor: DuckDB reading once every stored column the KPIs read (`sum(hash(...))` over them);
- full refresh: what `kpi refresh --full` does (every KPI, data quality, the serving copy);
- naive loop: one per-KPI statement (`render_sql`) per KPI per day, timed on a sample of days and
  extrapolated to all of them;
- one new day: `kpi load ga4-export` of the 91st day, then what `kpi refresh` does (incremental).

Refresh times are in-process (from compiling the KPIs to the serving copy); Python's start-up and module
imports are left out, and printed apart. Ratios are given in wall time and, where both sides are measured
that way, in CPU seconds (all threads), which a busy machine disturbs less. Goals: full refresh <= 3x floor and >= 30x faster than the naive loop; one new day
<= 5% of a full refresh; peak memory < 4 GB. The machine is shared: the load average is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
sys.path.insert(0, str(REPO))

from warehouse.location import copy_store  # noqa: E402

# The stored columns the generated SQL reads (generator/sql/scan.py, dimensions.py).
KPI_COLUMNS = ("event_date", "event_timestamp", "event_name", "user_pseudo_id", "event_params", "device",
               "geo", "collected_traffic_source", "ecommerce")
FLOOR_SCRIPT = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("SET enable_progress_bar = false")
clock, cpu = time.perf_counter(), time.process_time()
con.execute("SELECT count(*), sum(hash({cols})) FROM ga4_events").fetchall()
print(time.perf_counter() - clock, time.process_time() - cpu)
""".format(cols=", ".join(KPI_COLUMNS))

REFRESH_SCRIPT = """
import json, sys, time
clock = time.perf_counter()
from pathlib import Path
from generator.plan.queries import compile_plan
from generator.rules.validate import validate_paths
from warehouse.connection import connect_store
from warehouse.refresh import refresh_kpis
from warehouse.refresh_api import refresh_api_kpis
from warehouse.serving import publish_serving
import pyarrow as pa
pa.array(["warm"], pa.string())  # pyarrow imports its pandas shims on first use: start-up, not refresh work
imported = time.perf_counter()
store, full = Path(sys.argv[1]), sys.argv[2] == "full"
catalog = validate_paths([Path("kpis")]).catalog
plan = compile_plan(catalog)
con = connect_store(store)
started = time.perf_counter()
summary = refresh_kpis(con, catalog, plan, full=full)
computed = time.perf_counter()
refresh_api_kpis(con, plan)
publish_serving(con, store, catalog, plan)
con.close()
done = time.perf_counter()
print(json.dumps({"import_seconds": imported - clock, "compile_seconds": started - imported,
                  "refresh_kpis_seconds": computed - started, "serving_seconds": done - computed,
                  "refresh_seconds": done - imported, "rows": summary.rows, "days": summary.days,
                  "phases": summary.phases}))
"""

NAIVE_SCRIPT = """
import json, sys, time
from pathlib import Path
import duckdb
from generator.plan.queries import compile_plan
from generator.sql import render_sql
from generator.rules.validate import validate_paths
plan = compile_plan(validate_paths([Path("kpis")]).catalog)
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("SET enable_progress_bar = false")
statements = [render_sql(q, plan, "duckdb") for q in plan.ordered()]
clock, cpu = time.perf_counter(), time.process_time()
for day in sys.argv[2:]:
    for sql in statements:
        con.sql(sql, params={"start_date": day, "end_date": day}).to_arrow_table()
print(json.dumps({"seconds": time.perf_counter() - clock, "cpu_seconds": time.process_time() - cpu,
                  "statements": len(statements) * len(sys.argv[2:])}))
"""


def bench_data(events: int, days: int, seed: int) -> tuple[Path, Path]:
    """(the cached store with `days` demo days loaded, the export file of the day after), generated on first use."""
    import pyarrow.parquet as pq

    from warehouse.connection import connect_store
    from warehouse.sources.demo import iter_demo_days
    from warehouse.store import insert_events, run_load

    folder = RESULTS / f"refresh_{events}_{days}_{seed}"
    store, new_day = folder / "store.duckdb", folder / "new_day"
    if (folder / ".complete").exists():
        return store, next(new_day.glob("events_*.parquet"))
    shutil.rmtree(folder, ignore_errors=True)
    new_day.mkdir(parents=True)
    clock = time.perf_counter()
    # One more day than measured, with as many events per day: the last one is the "new day".
    end = date(2024, 3, 31)
    generated = iter_demo_days(events + events // days, days + 1, seed, end)
    first_days = [(end - timedelta(days=days - i)).strftime("%Y%m%d") for i in range(days)]

    class FirstDays:
        """The demo's first `days` days as a load source (the same insert path as `kpi load demo`)."""

        source, detail = "demo", f"bench: {events} events over {days} days, seed {seed}"

        def plan(self, con: object) -> list[list[str]]:
            return [[day] for day in first_days]

        def insert(self, con: object, batch: list[str]) -> None:
            day, table = next(generated)
            assert [day] == batch
            insert_events(con, table)  # type: ignore[arg-type]

    con = connect_store(store)
    try:
        run_load(con, FirstDays())
    finally:
        con.close()
    day, table = next(generated)
    pq.write_table(table, new_day / f"events_{day}.parquet")
    (folder / ".complete").write_text("ok\n")
    print(f"generated the bench store ({days} days) and day {day} in {time.perf_counter() - clock:.0f} s -> {folder}")
    return store, new_day / f"events_{day}.parquet"


def settled(store: Path) -> float:
    """Make the checkpoint DuckDB defers after a load (it merges the row groups the days were inserted in);
    whichever command writes next would pay it, but it is the load's work. Returns its seconds."""
    with duckdb.connect(str(store)) as con:
        con.execute("CREATE TABLE bench_settle AS SELECT 1 AS x")
        con.execute("DROP TABLE bench_settle")
        clock = time.perf_counter()
    return time.perf_counter() - clock  # the close, which checkpoints


def measured(args: list[str]) -> tuple[float, float, str]:
    """Run args in a child; return (wall seconds, its own peak RSS in MB, stdout)."""
    with tempfile.TemporaryFile("w+") as out_file, tempfile.TemporaryFile("w+") as err_file:
        clock = time.perf_counter()
        proc = subprocess.Popen(args, cwd=REPO, stdout=out_file, stderr=err_file, text=True)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage
        seconds = time.perf_counter() - clock
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read(), err_file.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"benchmark child failed:\n{err[-3000:]}")
    return seconds, usage.ru_maxrss / 1024, out


def python(script: str, *args: str | Path) -> tuple[float, float, dict]:
    seconds, peak_mb, out = measured([sys.executable, "-c", script, *map(str, args)])
    return seconds, peak_mb, json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--naive-days", type=int, default=6, help="Days the naive loop is timed on.")
    args = parser.parse_args()

    cached, new_day = bench_data(args.events, args.days, args.seed)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(dir=RESULTS) as tmp:
        store = Path(tmp) / "store.duckdb"
        copy_store(cached, store)
        with duckdb.connect(str(store), read_only=True) as con:
            stored, days = con.execute("SELECT count(*), list(DISTINCT event_date ORDER BY event_date) "
                                       "FROM ga4_events").fetchall()[0]
        settle = settled(store)
        floor, floor_cpu = map(float, measured([sys.executable, "-c", FLOOR_SCRIPT, str(store)])[2].split()[-2:])
        full_wall, full_mb, full = python(REFRESH_SCRIPT, store, "full")
        step = max(1, len(days) // args.naive_days)
        sample = days[step // 2::step][: args.naive_days]
        _, _, naive = python(NAIVE_SCRIPT, store, *sample)
        naive_all = naive["seconds"] * len(days) / len(sample)
        naive_all_cpu = naive["cpu_seconds"] * len(days) / len(sample)
        load_wall, _, _ = measured([sys.executable, "-c", "from kpibridge.cli import main; main()", "load",
                                    "ga4-export", str(new_day), "--db", str(store), "--format", "json"])
        settle_new_day = settled(store)
        inc_wall, inc_mb, inc = python(REFRESH_SCRIPT, store, "incremental")
    load_after = os.getloadavg()

    phases = full["phases"]
    result = {
        "events": stored, "days": len(days), "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before], "load_average_after": [round(x, 2) for x in load_after],
        "floor_seconds": round(floor, 2), "floor_cpu_seconds": round(floor_cpu, 2),
        "full_refresh_seconds": round(full["refresh_seconds"], 2),
        "full_kpi_seconds": round(phases["kpis"], 2), "full_kpi_cpu_seconds": round(phases["kpis_cpu"], 2),
        "full_quality_seconds": round(phases["quality"], 2),
        "full_write_seconds": round(phases["write"], 2),
        "full_other_seconds": round(full["refresh_seconds"] - phases["kpis"] - phases["quality"] - phases["write"], 2),
        "python_startup_seconds": round(full["import_seconds"], 2),
        "naive_sample_days": len(sample), "naive_sample_seconds": round(naive["seconds"], 2),
        "naive_extrapolated_seconds": round(naive_all, 1), "naive_extrapolated_cpu_seconds": round(naive_all_cpu, 1),
        "settle_seconds": round(settle, 2), "settle_new_day_seconds": round(settle_new_day, 2), "new_day_load_seconds": round(load_wall, 2), "new_day_refresh_seconds": round(inc["refresh_seconds"], 2),
        "new_day_kpi_seconds": round(inc["phases"]["kpis"], 2),
        "new_day_kpi_cpu_seconds": round(inc["phases"]["kpis_cpu"], 2), "new_day_days_recomputed": inc["days"],
        "peak_mb_full": round(full_mb), "peak_mb_new_day": round(inc_mb),
    }
    (RESULTS / f"bench_refresh_{args.events}.json").write_text(json.dumps(result, indent=2) + "\n")
    report(result)


def report(r: dict) -> None:
    full, kpis, kpis_cpu = r["full_refresh_seconds"], r["full_kpi_seconds"], r["full_kpi_cpu_seconds"]
    rows = [  # (what, wall figures, wall ratio, CPU ratio, goal)
        ("KPIs of a full refresh / floor", f"{kpis:.2f} s / {r['floor_seconds']:.2f} s", kpis / r["floor_seconds"],
         kpis_cpu / r["floor_cpu_seconds"], "<= 3x"),
        ("whole full refresh / floor", f"{full:.2f} s / {r['floor_seconds']:.2f} s", full / r["floor_seconds"], None,
         "<= 3x"),
        ("naive loop / KPIs of a full refresh", f"{r['naive_extrapolated_seconds']:.1f} s / {kpis:.2f} s",
         r["naive_extrapolated_seconds"] / kpis, r["naive_extrapolated_cpu_seconds"] / kpis_cpu, ">= 30x"),
        ("one new day / full refresh", f"{r['new_day_refresh_seconds']:.2f} s / {full:.2f} s",
         r["new_day_refresh_seconds"] / full, None, "<= 5%"),
        ("its KPIs / the full refresh's", f"{r['new_day_kpi_seconds']:.2f} s / {kpis:.2f} s",
         r["new_day_kpi_seconds"] / kpis, r["new_day_kpi_cpu_seconds"] / kpis_cpu, "<= 5%"),
    ]
    print(f"{r['events']:,} stored events over {r['days']} days; {r['cpus']} CPUs; 1-minute load average "
          f"{r['load_average_before'][0]:.2f} before, {r['load_average_after'][0]:.2f} after (shared machine)")
    print(f"  {'':36s} {'wall time':>24s}  {'ratio':>7s}  {'CPU ratio':>9s}")
    for name, figures, ratio, cpu_ratio, goal in rows:
        shown = [("" if x is None else f"{x:.1%}" if goal.endswith("%") else f"{x:.1f}x") for x in (ratio, cpu_ratio)]
        print(f"  {name:36s} {figures:>24s}  {shown[0]:>7s}  {shown[1]:>9s}   goal {goal}")
    memory = f"full {r['peak_mb_full']:,} MB, new day {r['peak_mb_new_day']:,} MB"
    print(f"  {'peak memory (max RSS)':36s} {memory:>44s}   goal < 4,096 MB")
    print(f"  full refresh {full:.2f} s = KPIs {kpis:.2f} + data quality {r['full_quality_seconds']:.2f} + writes "
          f"{r['full_write_seconds']:.2f} + compiling the KPIs, the Data API values and the serving copy "
          f"{r['full_other_seconds']:.2f}")
    print(f"  naive loop: every KPI's own statement for each of {r['naive_sample_days']} sample days took "
          f"{r['naive_sample_seconds']:.2f} s, extrapolated to {r['days']} days (not run in full)")
    print(f"  new day: loaded in {r['new_day_load_seconds']:.1f} s; the refresh recomputed {r['new_day_days_recomputed']} "
          f"days; Python start-up and imports add {r['python_startup_seconds']:.1f} s to each command (not counted); "
          f"the first checkpoint after each load took {r['settle_seconds']:.1f} s (90 days) and "
          f"{r['settle_new_day_seconds']:.1f} s (the new day), not counted: the load's work")
    print("  CPU ratio: the same with CPU seconds (all threads), steadier than wall time when the machine is shared")


if __name__ == "__main__":
    main()
