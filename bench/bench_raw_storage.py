"""Where a load's time goes, and what keeping the raw export as its files would cost instead (issue 13 §1).

    python bench/bench_raw_storage.py                     # 5M demo events over 90 days, 2 rounds
    python bench/bench_raw_storage.py --events 1000000 --rounds 1

Issue 13 asks to measure both ways of keeping the raw export available: a raw table in the store (what `kpi load
ga4-export` wrote until stop 41: every export column re-encoded into DuckDB's storage, the flattened params beside
them) and the export files kept as they came, behind a view, with a slim table of what the KPIs read (what it
writes since: `warehouse/raw_files.py`, `warehouse/slim_events.py`). This prints, each step in its own child
process (CPU seconds of all threads, peak memory), in alternating rounds:

- `kpi load ga4-export` as it is (with the example KPIs' flattened params), and the PII pre-filter over the
  store's `ga4_events` (its raw files) after it;
- `raw table`: DuckDB copying every export column into a table, nothing else (the floor of a raw table);
- the two nested columns that cost the most to copy, each alone: `event_params` and
  `session_traffic_source_last_click`;
- `files + slim table`: a byte copy of the files into a folder beside the store, plus one table holding every
  export column but those two, the flattened params the example KPIs read (the same expressions a load uses,
  `flat_params.with_flat_columns`), GA4's last click as four text columns (`attribution.last_click_values`),
  and each event's file and row number (the link back to its raw row); then the same with only what the example
  KPIs read (the scalar columns, the nested fields of their breakdowns and purchases, the flattened params and
  the last click);
- reads the raw export serves afterwards: the data-quality PII pre-filter over `event_params`, from the raw
  table and from the files.

The prototypes of the slim table are the measurements that chose the store's layout; they are kept to compare
it with. Results go to bench/results/bench_raw_storage_<N>.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_load import export_files  # noqa: E402
from bench_speed import RESULTS, Run, kpi, measured  # noqa: E402

HEAVY = ("event_params", "session_traffic_source_last_click")

# A child that writes one table from the export files into a fresh DuckDB file (argv: files glob, db, SELECT list).
TABLE_SCRIPT = """
import sys, duckdb
con = duckdb.connect(sys.argv[2])
con.execute("SET preserve_insertion_order = false")
con.execute("SET memory_limit = '1024MB'")
con.execute("CREATE TABLE t AS SELECT " + sys.argv[3] + " FROM read_parquet($glob)", {"glob": sys.argv[1]})
con.execute("CHECKPOINT")
con.close()
"""

# A child that copies the files into a folder and writes the slim table (argv: export folder, db, KPI folder).
SLIM_SCRIPT = """
import shutil, sys
from pathlib import Path
import duckdb
from sqlglot import exp
from generator.sql.attribution import last_click_values
from generator.sql.dialects import lower
from warehouse.connection import connect_store
from warehouse.flat_params import params_for_load, register, with_flat_columns
from warehouse.schema import COLUMN_NAMES

source, db, kpis, mode = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
raw = db.with_suffix(".raw")
raw.mkdir()
files = sorted(source.glob("*.parquet"))
for f in files:
    shutil.copyfile(f, raw / f.name)
con = connect_store(db)
con.execute("SET preserve_insertion_order = false")
con.execute("SET memory_limit = '1024MB'")
register(con, params_for_load(con, kpis))
rows = con.sql("SELECT *, filename AS kb_file, file_row_number AS kb_row FROM read_parquet($files, filename = true, "
               "file_row_number = true)", params={"files": [str(raw / f.name) for f in files]})
flat = with_flat_columns(con, rows.project(", ".join([*COLUMN_NAMES, "kb_file", "kb_row"])),
                         [*COLUMN_NAMES, "kb_file", "kb_row"])
last_click = [exp.alias_(lower(value, "duckdb"), f"lc_{name}").sql("duckdb")
              for name, value in last_click_values().items()]
if mode == "all":  # every export column but the two heaviest
    kept = ["* EXCLUDE (event_params, session_traffic_source_last_click)"]
else:  # only what the example KPIs read: the nested fields of their breakdowns and purchases, in records of one field
    kept = ["event_date", "event_timestamp", "event_name", "user_pseudo_id", "user_id",
            "{'category': device.category} AS device", "{'country': geo.country} AS geo",
            "{'transaction_id': ecommerce.transaction_id} AS ecommerce",
            *(c for c in flat.columns if c.startswith(("kp_", "kl_", "kc_", "kb_")))]
slim = flat.project(", ".join([*kept, *last_click]))
slim.create("proto_events")
con.execute("CHECKPOINT")
con.close()
"""

PII_SCRIPT = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=sys.argv[1] != ":memory:")
found = con.execute("SELECT count(*) FROM " + sys.argv[2] + " WHERE list_bool_or(list_transform(event_params, "
                    "lambda x: contains(x.value.string_value, '@') OR contains(x.value.string_value, '+') "
                    "OR contains(x.value.string_value, '00') OR contains(x.value.string_value, '%40')))").fetchall()
print(found)
"""


def one_round(folder: Path, tmp: Path, i: int) -> dict[str, Run]:
    glob = str(folder / "*.parquet")
    steps = ["load", "raw", "params", "last_click", "slim", "slim_needed"]
    out: dict[str, Run] = {}
    for step in steps if i % 2 == 0 else steps[::-1]:
        db = tmp / f"{step}_{i}.duckdb"
        if step == "load":
            out[step] = kpi("load", "ga4-export", folder, "--db", db, "--kpis", REPO / "kpis", "--format", "json")
            out["pii_view"] = measured([sys.executable, "-c", PII_SCRIPT, str(db), "ga4_events"])  # the raw files
        elif step.startswith("slim"):
            mode = "needed" if step == "slim_needed" else "all"
            out[step] = measured([sys.executable, "-c", SLIM_SCRIPT, str(folder), str(db), str(REPO / "kpis"), mode])
            if mode == "needed":
                continue
            files = f"read_parquet('{db.with_suffix('.raw')}/*.parquet')"
            out["pii_files"] = measured([sys.executable, "-c", PII_SCRIPT, ":memory:", files])
        else:
            select = {"raw": "*", "params": HEAVY[0], "last_click": HEAVY[1]}[step]
            out[step] = measured([sys.executable, "-c", TABLE_SCRIPT, glob, str(db), select])
            if step == "raw":
                out["pii_table"] = measured([sys.executable, "-c", PII_SCRIPT, str(db), "t"])
    return out


LABELS = {
    "load": "kpi load ga4-export (raw files + slim_events)",
    "raw": "raw table: every export column copied",
    "params": "  of which event_params alone",
    "last_click": "  of which the last click alone",
    "slim": "files copied + table of all but those two",
    "slim_needed": "files copied + table of what the KPIs read",
    "pii_table": "PII pre-filter, from the raw table",
    "pii_files": "PII pre-filter, from the kept files",
    "pii_view": "PII pre-filter, from the store's ga4_events",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    folder = export_files(args.events, args.days, args.seed)
    runs: dict[str, list[Run]] = {}
    with tempfile.TemporaryDirectory(prefix="kb-raw-") as tmp:
        for i in range(args.rounds):
            for step, run in one_round(folder, Path(tmp), i).items():
                runs.setdefault(step, []).append(run)
    result = {step: {"cpu": statistics.median(r.cpu for r in rs), "wall": statistics.median(r.wall for r in rs),
                     "peak_mb": max(r.peak_mb for r in rs)} for step, rs in runs.items()}
    print(f"{args.events:,} events over {args.days} days; median of {args.rounds} rounds (CPU s of all threads; "
          "every step in its own process, Python's start-up included)")
    for step, label in LABELS.items():
        r = result[step]
        print(f"  {label:46s} {r['cpu']:7.2f} CPU s  {r['wall']:6.2f} wall s  peak {r['peak_mb']:6.0f} MB")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"bench_raw_storage_{args.events}.json"
    path.write_text(json.dumps({"events": args.events, "days": args.days, "rounds": args.rounds, **result}, indent=2))
    print(f"-> {path}")


if __name__ == "__main__":
    main()
