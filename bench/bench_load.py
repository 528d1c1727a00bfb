"""Benchmark `kpi load ga4-export` against the floor of reading the same columns once.

    python bench/bench_load.py                 # 10M demo events over 90 days
    python bench/bench_load.py --events 1000000

The demo export (one Parquet file per day) is generated once and cached in bench/results/ (git-ignored).
Floor: DuckDB reading, once, every column the loader keeps (`count(*)`, `sum(hash(...))` via read_parquet).
Load: `kpi load ga4-export` into a fresh warehouse file. Both run in child processes, so each one's peak
memory (ru_maxrss) is its own. Goal: load <= 2x floor, peak memory < 4 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
sys.path.insert(0, str(REPO))

from warehouse.schema import COLUMN_NAMES  # noqa: E402

FLOOR_SCRIPT = """
import sys, duckdb
con = duckdb.connect()
print(con.execute("SELECT count(*), sum(hash({cols})) FROM read_parquet($glob)", {{"glob": sys.argv[1]}}).fetchall())
""".format(cols=", ".join(COLUMN_NAMES))
LOAD_SCRIPT = "from kpibridge.cli import main; main()"


def export_files(events: int, days: int, seed: int) -> Path:
    """The cached demo export for this size, generated on first use."""
    import pyarrow.parquet as pq

    from warehouse.sources.demo import iter_demo_days

    folder = RESULTS / f"demo_export_{events}_{days}_{seed}"
    done = folder / ".complete"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    clock = time.perf_counter()
    for day, table in iter_demo_days(events, days, seed, date(2024, 3, 31)):
        pq.write_table(table, folder / f"events_{day}.parquet")
    print(f"generated {events:,} demo events over {days} days in {time.perf_counter() - clock:.1f} s -> {folder}")
    done.write_text("ok\n")
    return folder


def measured(args: list[str]) -> tuple[float, float, float, str]:
    """Run args in a child; return (wall seconds, CPU seconds, its own peak RSS in MB, stdout)."""
    with tempfile.TemporaryFile("w+") as out_file, tempfile.TemporaryFile("w+") as err_file:
        clock = time.perf_counter()
        proc = subprocess.Popen(args, cwd=REPO, stdout=out_file, stderr=err_file, text=True)
        # wait4 gives this child's own rusage (RUSAGE_CHILDREN would be the max over all children).
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - clock
        proc.returncode = os.waitstatus_to_exitcode(status)
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read(), err_file.read()
    if proc.returncode != 0:
        raise SystemExit(f"benchmark child failed ({proc.returncode}):\n{err[-2000:]}")
    cpu = usage.ru_utime + usage.ru_stime  # on a shared machine CPU time is steadier than wall time
    return seconds, cpu, usage.ru_maxrss / 1024, out  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    folder = export_files(args.events, args.days, args.seed)
    pattern = str(folder / "events_*.parquet")
    size_mb = sum(p.stat().st_size for p in folder.glob("*.parquet")) / 2**20

    floor_s, floor_cpu, floor_mb, _ = measured([sys.executable, "-c", FLOOR_SCRIPT, pattern])
    with tempfile.TemporaryDirectory(dir=RESULTS) as tmp:
        db = Path(tmp) / "bench.duckdb"
        load_s, load_cpu, load_mb, out = measured(
            [sys.executable, "-c", LOAD_SCRIPT, "load", "ga4-export", pattern, "--db", str(db), "--format", "json"]
        )
        db_mb = db.stat().st_size / 2**20
    summary = json.loads(out.strip().splitlines()[-1])
    result = {
        "events": args.events,
        "days": args.days,
        "parquet_mb": round(size_mb, 1),
        "warehouse_mb": round(db_mb, 1),
        "floor_seconds": round(floor_s, 2),
        "load_seconds": round(load_s, 2),
        "ratio": round(load_s / floor_s, 2),
        "floor_cpu_seconds": round(floor_cpu, 2),
        "load_cpu_seconds": round(load_cpu, 2),
        "cpu_ratio": round(load_cpu / floor_cpu, 2),
        "floor_peak_mb": round(floor_mb),
        "load_peak_mb": round(load_mb),
        "rows_loaded": summary["rows"],
    }
    (RESULTS / "bench_load.json").write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"{args.events:,} events / {args.days} days ({size_mb:.0f} MB Parquet): "
        f"floor {floor_s:.2f} s, load {load_s:.2f} s, ratio {load_s / floor_s:.2f}x (goal <= 2x); "
        f"CPU floor {floor_cpu:.2f} s, load {load_cpu:.2f} s, ratio {load_cpu / floor_cpu:.2f}x; "
        f"peak memory: load {load_mb:,.0f} MB (goal < 4096), floor {floor_mb:,.0f} MB"
    )


if __name__ == "__main__":
    main()
