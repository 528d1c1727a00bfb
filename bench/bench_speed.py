"""Side by side, in alternating rounds: KPI Bridge against one hand-written query and a bare scan (issue 13).

    python bench/bench_speed.py                              # 1M demo events over 90 days, 3 rounds
    python bench/bench_speed.py --events 200000 --rounds 2
    python bench/bench_speed.py --events 5000000             # the issue's sizes (not for a shared 2-core box)
    python bench/bench_speed.py --events 10000000 --history 30,90,180

The export (one GA4-shaped Parquet file per day, with the export's real column names and nesting, including
`session_traffic_source_last_click`) is built once by `bench_load.export_files` and cached in bench/results/.
Each round runs, in an order that alternates between rounds, each in its own child process (so each one's
CPU time and peak memory, ru_maxrss, are its own; Python's start-up is in every one of them):

- (a) `kpi load ga4-export` into a fresh store, then `kpi refresh --full` (two commands, as a user runs them;
  the rounds' stores share the machine's SQL texts, `warehouse/text_cache.py`, which the first round builds);
- (b) one hand-written DuckDB query computing the example KPIs (kpis/) per day straight from the Parquet
  files, in one pass (`HAND_SQL`, with the KPIs' declared breakdowns; daily values only, where a refresh also
  counts the exact values over weeks, months and the dashboard's periods);
- (c) a scan of just the columns the KPIs need from the same files (`sum(hash(...))` over them).

Then, for each history length (30, 90, 180 days by default; `--per-day` events a day): load that history,
`kpi refresh --full`, load one more day, `kpi refresh` (incremental), `kpi refresh` again with nothing new, and
once more (answered from the record the first one left, `warehouse/settled.py`), then load the day after and `kpi refresh` (the next day: a daily run's cost once its texts are kept).

KPI Bridge's modules are compiled to bytecode first (`compiled_modules`), as installing a package does: a machine
that sets PYTHONDONTWRITEBYTECODE (this one does) would otherwise compile its 156 modules again in every command
(0.09 CPU s each), a cost no installed copy pays.

Ratios are printed in CPU seconds (all threads; steadier than wall time on a shared machine), with wall time
beside. The median of the rounds is reported. Results are written to bench/results/bench_speed_<N>.json.
Goals (issue 13): (a) <= 1.0x (b); refresh alone <= 3x (c); one new day <= 5% of a full refresh and flat from
30 to 180 days; peak memory <= 1.5 GB at 10M events.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_load import export_files  # noqa: E402

from warehouse.text_cache import CACHE_ENV  # noqa: E402

KPI = "from kpibridge.cli import main; main()"

# The export columns the example KPIs read (session key, time, name, params, attribution, device, geo, ecommerce).
NEEDED = ("event_date", "event_timestamp", "event_name", "user_pseudo_id", "event_params", "device.category",
          "geo.country", "collected_traffic_source", "session_traffic_source_last_click", "ecommerce.transaction_id")
SCAN_SCRIPT = """
import sys, duckdb
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
print(con.execute("SELECT count(*), sum(hash({cols})) FROM read_parquet($glob)", {{"glob": sys.argv[1]}}).fetchall())
""".format(cols=", ".join(NEEDED))

# The example KPIs per day, by hand, in one pass over the files: one row per event with the few params the
# KPIs read, one row per session (its first event's device and attribution), then every KPI's day total and
# its declared breakdowns (GROUPING SETS). The channel is GA4's own where the export has it, else a short
# version of GA4's rules (source / medium of the last click, or of the session's first UTM): a benchmark
# baseline, not a reimplementation of every rule `generator/sql/channels.py` applies.
HAND_SQL = """
WITH ev AS (
    SELECT event_date AS day, event_timestamp AS ts, event_name AS name, user_pseudo_id AS uid,
        user_pseudo_id || '.' || CAST(list_filter(event_params, lambda p: p.key = 'ga_session_id')[1].value.int_value
                                      AS VARCHAR) AS sid,
        list_filter(event_params, lambda p: p.key = 'session_engaged')[1].value.string_value = '1' AS engaged,
        CASE WHEN event_name IN ('purchase', 'generate_lead') THEN
            coalesce(list_filter(event_params, lambda p: p.key = 'value')[1].value.double_value,
                     list_filter(event_params, lambda p: p.key = 'value')[1].value.float_value,
                     list_filter(event_params, lambda p: p.key = 'value')[1].value.int_value) END AS val,
        CASE WHEN event_name = 'purchase' THEN
            list_filter(event_params, lambda p: p.key = 'payment_type')[1].value.string_value END AS payment_type,
        CASE WHEN event_name = 'generate_lead' THEN
            list_filter(event_params, lambda p: p.key = 'lead_source')[1].value.string_value END AS lead_source,
        CASE WHEN event_name = 'sign_up' THEN
            list_filter(event_params, lambda p: p.key = 'method')[1].value.string_value END AS method,
        ecommerce.transaction_id AS tid, device.category AS device, geo.country AS country,
        coalesce(session_traffic_source_last_click.cross_channel_campaign.default_channel_group,
                 CASE
                     WHEN coalesce(session_traffic_source_last_click.manual_campaign.medium,
                                   collected_traffic_source.manual_medium) IN ('cpc', 'ppc', 'paidsearch') THEN 'Paid Search'
                     WHEN coalesce(session_traffic_source_last_click.manual_campaign.medium,
                                   collected_traffic_source.manual_medium) = 'organic' THEN 'Organic Search'
                     WHEN coalesce(session_traffic_source_last_click.manual_campaign.medium,
                                   collected_traffic_source.manual_medium) = 'email' THEN 'Email'
                     WHEN coalesce(session_traffic_source_last_click.manual_campaign.medium,
                                   collected_traffic_source.manual_medium) = 'referral' THEN 'Referral'
                     WHEN coalesce(session_traffic_source_last_click.manual_campaign.source,
                                   collected_traffic_source.manual_source) IS NULL THEN 'Direct'
                     ELSE 'Unassigned' END) AS channel
    FROM read_parquet($glob)
),
sessions AS (
    SELECT sid, arg_min(day, ts) AS day, arg_min(device, ts) AS device, arg_min(channel, ts) AS channel,
        bool_or(engaged) AS engaged, bool_or(name = 'view_item') AS viewed, bool_or(name = 'add_to_cart') AS carted,
        bool_or(name = 'purchase') AS bought, bool_or(name = 'generate_lead') AS led
    FROM ev WHERE sid IS NOT NULL GROUP BY sid
),
session_kpis AS (
    SELECT day, channel, device, count(*) AS sessions, count(*) FILTER (WHERE engaged) AS engaged_sessions,
        count(*) FILTER (WHERE viewed) AS view_sessions, count(*) FILTER (WHERE carted) AS cart_sessions,
        count(*) FILTER (WHERE bought) AS purchase_sessions, count(*) FILTER (WHERE led) AS lead_sessions
    FROM sessions GROUP BY GROUPING SETS ((day), (day, channel), (day, device))
),
purchases AS (  -- each transaction once, at its first copy
    SELECT e.* FROM ev e WHERE name = 'purchase'
    QUALIFY tid IS NULL OR row_number() OVER (PARTITION BY tid ORDER BY day, ts) = 1
),
event_kpis AS (
    SELECT e.day, s.channel, e.country, e.device, e.payment_type, e.lead_source,
        count(DISTINCT e.uid) FILTER (WHERE e.name = 'first_visit') AS new_users,
        count(*) FILTER (WHERE e.name = 'sign_up' AND e.method = 'email') AS email_sign_ups,
        count(*) FILTER (WHERE e.name = 'generate_lead') AS leads,
        sum(e.val) FILTER (WHERE e.name = 'purchase') AS revenue,
        avg(e.val) FILTER (WHERE e.name = 'purchase') AS average_order_value
    FROM (SELECT * FROM ev WHERE name IN ('first_visit', 'sign_up', 'generate_lead')
          UNION ALL BY NAME SELECT * FROM purchases) e
    LEFT JOIN sessions s USING (sid)
    GROUP BY GROUPING SETS ((e.day), (e.day, s.channel), (e.day, e.country), (e.day, e.device),
                            (e.day, e.payment_type), (e.day, e.lead_source))
),
carts AS (  -- cart_to_purchase_1d per user: a day's carting users who buy within a day of their first cart
    SELECT c.day, c.device, c.uid, bool_or(p.ts IS NOT NULL) AS converted
    FROM (SELECT day, uid, min(ts) AS ts, arg_min(device, ts) AS device FROM ev
          WHERE name = 'add_to_cart' GROUP BY day, uid) c
    LEFT JOIN (SELECT uid, ts FROM ev WHERE name = 'purchase') p
        ON p.uid = c.uid AND p.ts >= c.ts AND p.ts <= c.ts + 86400000000
    GROUP BY ALL
),
cart_kpis AS (
    SELECT day, device, avg(converted::INT) AS cart_to_purchase_1d FROM carts
    GROUP BY GROUPING SETS ((day), (day, device))
)
SELECT 'sessions' AS part, count(*) AS row_count, sum(sessions) AS total FROM session_kpis
UNION ALL SELECT 'events', count(*), sum(revenue) FROM event_kpis
UNION ALL SELECT 'carts', count(*), sum(cart_to_purchase_1d) FROM cart_kpis
"""
HAND_SCRIPT = """
import sys, duckdb
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
print(con.execute(sys.argv[2], {"glob": sys.argv[1]}).fetchall())
"""


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    peak_mb: float
    out: str


def measured(args: list[str]) -> Run:
    """Run args in a child; its wall seconds, CPU seconds (user + system, all threads), peak RSS and stdout."""
    with tempfile.TemporaryFile("w+") as out_file, tempfile.TemporaryFile("w+") as err_file:
        clock = time.perf_counter()
        proc = subprocess.Popen(args, cwd=REPO, stdout=out_file, stderr=err_file, text=True)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage
        wall = time.perf_counter() - clock
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read(), err_file.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"benchmark child failed: {' '.join(args[:6])}\n{err[-3000:]}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out)


def kpi(*args: str | Path) -> Run:
    return measured([sys.executable, "-c", KPI, *map(str, args)])


def load_and_refresh(pattern: str, db: Path) -> tuple[Run, Run]:
    load = kpi("load", "ga4-export", pattern, "--db", db, "--format", "json")
    refresh = kpi("refresh", "--full", "--db", db, "--format", "json")
    return load, refresh


def side_by_side(pattern: str, rounds: int, tmp: Path) -> dict[str, list[Run]]:
    """Alternating rounds of (a) load + full refresh, (b) the hand-written query, (c) the scan. The rounds' stores
    share one folder of SQL texts (`warehouse/text_cache.py`), empty before the first round: its refresh builds
    them, as the first refresh on a machine does; the later ones read them, as every other does."""
    os.environ[CACHE_ENV] = str(tmp / "texts")
    runs: dict[str, list[Run]] = {"load": [], "refresh": [], "hand": [], "scan": []}
    order = ["a", "b", "c"]
    for i in range(rounds):
        for step in order if i % 2 == 0 else order[::-1]:
            if step == "a":
                db = tmp / f"round{i}.duckdb"
                load, refresh = load_and_refresh(pattern, db)
                runs["load"].append(load)
                runs["refresh"].append(refresh)
                db.unlink()
            elif step == "b":
                runs["hand"].append(measured([sys.executable, "-c", HAND_SCRIPT, pattern, HAND_SQL]))
            else:
                runs["scan"].append(measured([sys.executable, "-c", SCAN_SCRIPT, pattern]))
        print(f"  round {i + 1}/{rounds}: load + refresh {runs['load'][-1].cpu + runs['refresh'][-1].cpu:.1f} CPU s, "
              f"hand-written {runs['hand'][-1].cpu:.1f}, scan {runs['scan'][-1].cpu:.1f}", flush=True)
    return runs


def incremental(history: int, per_day: int, seed: int, tmp: Path, repeats: int = 3) -> dict[str, object]:
    """Load `history` days, full refresh; load one more day, refresh; refresh again with nothing new; then load
    the day after and refresh (the next day: what a daily run costs once the first new day after a full refresh
    has built the texts a new day's statements keep, `warehouse/sql_texts.py`). Each history starts with no
    shared SQL texts (`warehouse/text_cache.py`): its full refresh and first new day build theirs.

    A single run of a few CPU seconds moves by 10-30 % with the machine, so each new day is also refreshed in
    `repeats` copies of the store as it stood before that refresh (`_copied`), after the first: their median is
    the steady figure (the texts kept), which the goal's share and its flatness are read from."""
    os.environ[CACHE_ENV] = str(tmp / f"texts_{history}")
    folder = export_files(per_day * (history + 2), history + 2, seed)
    files = sorted(folder.glob("events_*.parquet"))
    past, new, after = tmp / f"history_{history}", tmp / f"new_{history}", tmp / f"next_{history}"
    for d in (past, new, after):
        d.mkdir()
    for f in files[:-2]:
        (past / f.name).symlink_to(f)
    (new / files[-2].name).symlink_to(files[-2])
    (after / files[-1].name).symlink_to(files[-1])
    db = tmp / f"history_{history}.duckdb"
    _, full = load_and_refresh(str(past), db)
    load_day = kpi("load", "ga4-export", new, "--db", db, "--format", "json")
    copies = [_copied(db, tmp / f"copy_{n}") for n in range(repeats)]
    one_day = kpi("refresh", "--db", db, "--format", "json")
    new_days = [_refreshed(copy) for copy in copies]
    nothing = kpi("refresh", "--db", db, "--format", "json")
    again = kpi("refresh", "--db", db, "--format", "json")  # nothing new, asked again: `warehouse/settled.py`
    kpi("load", "ga4-export", after, "--db", db, "--format", "json")
    copies = [_copied(db, tmp / f"copy_{n}") for n in range(repeats)]
    next_day = kpi("refresh", "--db", db, "--format", "json")
    next_days = [_refreshed(copy) for copy in copies]
    db.unlink()
    for d in (past, new, after):
        shutil.rmtree(d)
    steady = [run.cpu for run in new_days] or [one_day.cpu]
    return {"history_days": history, "full_refresh_cpu": full.cpu, "full_refresh_wall": full.wall,
            "full_refresh_own_cpu": in_process(full)[1], "new_day_refresh_own_cpu": in_process(one_day)[1],
            "nothing_new_refresh_own_cpu": in_process(nothing)[1],
            "new_day_load_cpu": load_day.cpu, "new_day_refresh_cpu": one_day.cpu, "new_day_refresh_wall": one_day.wall,
            "new_day_steady_cpu": statistics.median(steady), "new_day_steady_runs": steady,
            "new_day_steady_own_cpu": statistics.median([in_process(r)[1] for r in new_days] or
                                                        [in_process(one_day)[1]]),
            "nothing_new_refresh_cpu": nothing.cpu, "nothing_new_refresh_wall": nothing.wall,
            "nothing_new_again_cpu": again.cpu, "nothing_new_again_wall": again.wall,
            "next_day_refresh_cpu": statistics.median([next_day.cpu] + [r.cpu for r in next_days]),
            "next_day_runs": [next_day.cpu] + [r.cpu for r in next_days],
            "next_day_refresh_own_cpu": in_process(next_day)[1], "startup_cpu": startup_cpu()}


def _copied(db: Path, folder: Path) -> Path:
    """A copy of the closed store `db` and everything beside it named after it (its raw files, its serving copy,
    its record of the last refresh), in `folder` (emptied first)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for path in db.parent.glob(f"{db.stem}.*"):
        (shutil.copytree if path.is_dir() else shutil.copy)(path, folder / path.name)
    return folder / db.name


def _refreshed(copy: Path) -> Run:
    """`kpi refresh` of a copied store, which is then removed."""
    run = kpi("refresh", "--db", copy, "--format", "json")
    shutil.rmtree(copy.parent)
    return run


_STARTUP: list[float] = []


def compiled_modules() -> None:
    """Compile KPI Bridge's packages to bytecode beside their sources (git-ignored `__pycache__`), as pip does
    for an installed package; the children read it even where PYTHONDONTWRITEBYTECODE keeps them from writing it."""
    packages = [str(REPO / name) for name in ("kpibridge", "generator", "warehouse", "dashboards")]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *packages], check=True, stdout=subprocess.DEVNULL)


def startup_cpu() -> float:
    """CPU seconds of `kpi --help`: Python's start-up and the CLI's imports, in every command above."""
    if not _STARTUP:
        _STARTUP.append(statistics.median(kpi("--help").cpu for _ in range(3)))
    return _STARTUP[0]


def median(runs: list[Run], attr: str) -> float:
    return statistics.median(getattr(r, attr) for r in runs)


def summary(run: Run) -> dict:
    """The JSON summary a `kpi ... --format json` command printed."""
    return json.loads(next(line for line in run.out.splitlines() if line.startswith("{")))


def in_process(run: Run) -> tuple[float, float]:
    """(wall, CPU) seconds of a refresh's own work, as it reports them (start-up and imports left out)."""
    phases = summary(run)["phases"]
    return summary(run)["seconds"], phases["kpis_cpu"] + phases["quality_cpu"] + phases["write_cpu"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--history", default="30,90,180", help="History lengths (days) for one new day.")
    parser.add_argument("--per-day", type=int, default=2000, help="Events a day in the one-new-day runs.")
    parser.add_argument("--repeats", type=int, default=3,
                        help="Refreshes of each new day (copies of the store) whose median is the steady figure.")
    parser.add_argument("--skip-incremental", action="store_true")
    args = parser.parse_args()

    folder = export_files(args.events, args.days, args.seed)
    compiled_modules()
    pattern = str(folder / "events_*.parquet")
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(dir=RESULTS) as name:
        tmp = Path(name)
        print(f"{args.events:,} events over {args.days} days, {args.rounds} alternating rounds:", flush=True)
        runs = side_by_side(pattern, args.rounds, tmp)
        histories = [] if args.skip_incremental else [
            incremental(int(h), args.per_day, args.seed, tmp, args.repeats) for h in args.history.split(",")]
    result = {
        "events": args.events, "days": args.days, "rounds": args.rounds, "cpus": os.cpu_count(),
        "load_average": [round(os.getloadavg()[0], 2), round(load_before[0], 2)],
        **{f"{k}_{a}": round(median(v, a), 3) for k, v in runs.items() for a in ("cpu", "wall", "peak_mb")},
        "refresh_own_wall": round(statistics.median(in_process(x)[0] for x in runs["refresh"]), 3),
        "refresh_own_cpu": round(statistics.median(in_process(x)[1] for x in runs["refresh"]), 3),
        "first_refresh_cpu": round(runs["refresh"][0].cpu, 3),  # its SQL texts built, none shared yet
        "startup_cpu": round(startup_cpu(), 3), "hand_output": runs["hand"][-1].out.strip(),
        "incremental": [{k: _rounded(v) for k, v in h.items()} for h in histories],
    }
    (RESULTS / f"bench_speed_{args.events}.json").write_text(json.dumps(result, indent=2) + "\n")
    report(result)


def _rounded(value: object) -> object:
    if isinstance(value, list):
        return [_rounded(x) for x in value]
    return round(value, 3) if isinstance(value, float) else value


def report(r: dict) -> None:
    a_cpu, a_wall = r["load_cpu"] + r["refresh_cpu"], r["load_wall"] + r["refresh_wall"]
    rows = [  # (what, CPU a, CPU b, wall a, wall b, goal)
        ("(a) load + full refresh / (b) hand-written query", a_cpu, r["hand_cpu"], a_wall, r["hand_wall"], "<= 1.0x"),
        ("full refresh alone / (c) scan of needed columns", r["refresh_cpu"], r["scan_cpu"], r["refresh_wall"],
         r["scan_wall"], "<= 3x"),
        ("  the refresh's own work (no start-up) / (c)", r["refresh_own_cpu"], r["scan_cpu"], r["refresh_own_wall"],
         r["scan_wall"], "<= 3x"),
        ("load alone / (c) scan of needed columns", r["load_cpu"], r["scan_cpu"], r["load_wall"], r["scan_wall"], ""),
        ("(b) hand-written query / (c) scan", r["hand_cpu"], r["scan_cpu"], r["hand_wall"], r["scan_wall"], ""),
    ]
    print(f"\n{r['events']:,} events over {r['days']} days; median of {r['rounds']} rounds; {r['cpus']} CPUs; "
          f"1-minute load average {r['load_average'][1]:.1f} before, {r['load_average'][0]:.1f} after")
    print(f"  {'':50s} {'CPU s':>15s} {'CPU ratio':>9s} {'wall s':>15s} {'ratio':>6s}")
    for name, ca, cb, wa, wb, goal in rows:
        print(f"  {name:50s} {ca:6.2f} / {cb:6.2f} {ca / cb:8.2f}x {wa:6.2f} / {wb:6.2f} {wa / wb:5.2f}x"
              + (f"   goal {goal}" if goal else ""))
    print(f"  peak memory (max RSS): load {r['load_peak_mb']:,.0f} MB, refresh {r['refresh_peak_mb']:,.0f} MB, "
          f"hand-written {r['hand_peak_mb']:,.0f} MB, scan {r['scan_peak_mb']:,.0f} MB")
    print(f"  the first round's full refresh built its SQL texts (the later ones read them, shared): "
          f"{r['first_refresh_cpu']:.2f} CPU s")
    print(f"  every command includes Python's start-up and imports: `kpi --help` costs {r['startup_cpu']:.2f} CPU s")
    if r["incremental"]:
        print(f"  {'history':>8s} {'full refresh':>13s} {'first new day':>14s} {'share':>6s} {'new day':>8s} "
              f"{'share':>6s} {'nothing new':>12s} {'share':>6s} {'again':>6s} {'own work: day / full':>21s} "
              f"{'next day':>9s} {'share':>6s}   (CPU s; goal <= 5 %, flat)")
        for h in r["incremental"]:
            full, first, idle = h["full_refresh_cpu"], h["new_day_refresh_cpu"], h["nothing_new_refresh_cpu"]
            day = h.get("new_day_steady_cpu", first)
            own = h.get("new_day_steady_own_cpu", h["new_day_refresh_own_cpu"])
            after = h["next_day_refresh_cpu"]
            print(f"  {h['history_days']:>5d} d {full:13.2f} {first:14.2f} {first / full:6.1%} {day:8.2f} "
                  f"{day / full:6.1%} {idle:12.2f} {idle / full:6.1%} {h['nothing_new_again_cpu']:6.2f} "
                  f"{own / h['full_refresh_own_cpu']:21.1%} {after:9.2f} {after / full:6.1%}")
        days = [h.get("new_day_steady_cpu", h["new_day_refresh_cpu"]) for h in r["incremental"]]
        runs = len(r["incremental"][0].get("new_day_steady_runs", [None]))
        print("  (first new day: the first refresh after the full one, building the texts a new day's statements keep;\n"
              f"   new day: the median of {runs} refreshes of copies of the store as it stood before it, the texts kept;\n"
              "   again: nothing new, asked a second time, answered from the first one's record; next day: the day\n"
              "   after, loaded and refreshed, the median of its refreshes likewise)")
        if len(days) > 1:
            print(f"  the new day from {r['incremental'][0]['history_days']} to {r['incremental'][-1]['history_days']} "
                  f"days of history: {days[0]:.2f} -> {days[-1]:.2f} CPU s, {days[-1] / days[0] - 1:+.0%} "
                  "(goal: flat, within 20 %)")


if __name__ == "__main__":
    main()
