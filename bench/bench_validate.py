"""How fast `kpi validate` is: 1,000 (and 2,000) generated KPI files plus an events catalog.

    python bench/bench_validate.py            # best of 3 runs for 1,000 and 2,000 files
    python bench/bench_validate.py --ruamel   # without the libyaml fast path, for comparison

Prints files per second and the ratio against the goal: 1,000 files in under 2 s on a 2-core machine,
growing linearly.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from generator.parse import loading
from generator.rules.validate import validate_paths

GOAL_FILES, GOAL_SECONDS = 1_000, 2.0

EVENTS = """# yaml-language-server: $schema=kpi.schema.json
version: 1
events:
  purchase:
    trigger: When the order confirmation page loads, once per order.
    params:
      payment_type: {type: string, enum: [card, paypal, invoice], description: How the customer paid.}
  generate_lead:
    trigger: When a lead form is submitted successfully.
    params:
      lead_source: {type: string, enum: [contact_form, newsletter, webinar]}
  sign_up:
    trigger: When account creation succeeds.
    params:
      method: {type: string, enum: [email, google]}
  quote_request:
    trigger: When the quote form is submitted successfully.
    params:
      plan: {type: string, enum: [basic, pro, enterprise]}
      seats: {type: integer, min: 1}
  demo_booked:
    trigger: When a demo slot is confirmed.
    params:
      product: {type: string, enum: [shop, crm]}
"""

HEAD = """# yaml-language-server: $schema=../kpi.schema.json
version: 1
kpi: {id}
title: KPI number {n}
description: A generated KPI of kind {kind}, for the benchmark.
objective: Grow online revenue
owner: team-{team}@shop.example
team: team_{team}
"""

MEASURES = {
    "count": "measure:\n  count:\n    event: quote_request\n    where:\n      - {{param: plan, in: [pro, enterprise]}}\n"
             "      - {{dimension: country, equals: DE}}\ntarget: {t}\nthresholds: {{warn_below: {w}, critical_below: {c}}}\n"
             "breakdowns: [channel, {{param: plan}}]\n",
    "users_with": "measure:\n  users_with: {{event: sign_up, where: [{{param: method, equals: email}}]}}\ntarget: {t}\n"
                  "thresholds: {{warn_below: {w}, critical_below: {c}}}\nbreakdowns: [device_category]\n",
    "sessions_with": "measure:\n  sessions_with: demo_booked\ntarget: {t}\nbreakdowns: [channel]\n",
    "population": "measure:\n  new_users:\n    where: [{{dimension: device_category, equals: mobile}}]\ntarget:\n"
                  "  - {{from: 2026-01-01, value: {c}}}\n  - {{from: 2026-07-01, value: {t}}}\n"
                  "thresholds: {{warn_below: {c}, critical_below: 1}}\nbreakdowns: [channel, country]\n",
    "sum": "measure:\n  sum: {{event: purchase, param: value}}\nformat: currency\ncurrency: EUR\ntarget: {t}\n"
           "thresholds: {{warn_below: {w}, critical_below: {c}}}\nbreakdowns: [channel, {{param: payment_type}}]\n",
    "average": "measure:\n  average: {{event: quote_request, param: seats}}\ntarget: {t}\nbreakdowns: [country]\n",
    "ratio": "measure:\n  ratio:\n    numerator: {{sessions_with: purchase}}\n    denominator: {{sessions: {{}}}}\n"
             "format: percent\ntarget: 0.03\nthresholds: {{warn_below: 0.028, critical_below: 0.022}}\n"
             "breakdowns: [channel, device_category]\n",
    "conversion": "measure:\n  conversion:\n    from: generate_lead\n    to: {{event: purchase, where: [{{param: payment_type, "
                  "equals: invoice}}]}}\n    within: 7d\n    per: user\nformat: percent\ntarget: 0.2\n"
                  "thresholds: {{warn_below: 0.15, critical_below: 0.1}}\n",
    "down": "measure:\n  count: {{event: generate_lead, where: [{{param: lead_source, equals: newsletter}}]}}\n"
            "direction: down\ntarget: {c}\nthresholds: {{warn_above: {w}, critical_above: {t}}}\n",
    "derived": "measure:\n  derived: {{formula: ({a} + {b}) / 2}}\ntarget: {t}\n",
}


def generate(folder: Path, count: int) -> None:
    """`count` KPI files of every kind, in 10 team folders, plus the events catalog."""
    (folder / "events.yaml").write_text(EVENTS, encoding="utf-8")
    kinds = list(MEASURES)
    for n in range(count):
        kind = kinds[n % len(kinds)]
        team = n % 10
        kid = f"kpi_{n:05d}"
        t = 100 + n
        body = MEASURES[kind].format(t=t, w=t - 10, c=t - 30, a=f"kpi_{n - 1:05d}", b=f"kpi_{n - 2:05d}")
        out = folder / f"team_{team}" / f"{kid}.yaml"
        out.parent.mkdir(exist_ok=True)
        out.write_text(HEAD.format(id=kid, n=n, kind=kind, team=team) + body, encoding="utf-8")


def measure(count: int, repeat: int) -> tuple[float, float, int, int]:
    """(best wall seconds, best CPU seconds, files checked, issues) for validating `count` generated files."""
    with tempfile.TemporaryDirectory(prefix="kpi-bench-") as tmp:
        folder = Path(tmp) / "kpis"
        folder.mkdir()
        generate(folder, count)
        best = best_cpu = float("inf")
        for _ in range(repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            report = validate_paths([folder], relative_to=folder).report
            best = min(best, time.perf_counter() - start)
            best_cpu = min(best_cpu, time.process_time() - start_cpu)
        return best, best_cpu, report.files_checked, len(report.issues)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 2_000])
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; the best counts")
    parser.add_argument("--ruamel", action="store_true", help="disable the libyaml fast path")
    args = parser.parse_args()
    if args.ruamel:
        loading._LibyamlParser = None
    path = "ruamel only" if loading._LibyamlParser is None else "libyaml fast path"
    print(f"kpi validate benchmark ({path}; goal: {GOAL_FILES:,} files in < {GOAL_SECONDS:.1f} s)")
    if loading._LibyamlParser is None and not args.ruamel:
        print("note: PyYAML with libyaml is not installed, so YAML is read by ruamel.yaml alone (about 6x slower)")
    print(f"{'KPI files':>10} {'seconds':>8} {'files/s':>8} {'CPU s':>6} {'issues':>7}")
    results = []
    busy = False
    for size in args.sizes:
        seconds, cpu, files, issues = measure(size, args.repeat)
        results.append((size, seconds))
        busy = busy or seconds > 1.5 * cpu
        print(f"{size:>10,} {seconds:>8.2f} {files / seconds:>8,.0f} {cpu:>6.2f} {issues:>7}")
    per_file = {size: seconds / size for size, seconds in results}
    projected = per_file[min(per_file, key=lambda s: abs(s - GOAL_FILES))] * GOAL_FILES
    verdict = "meets" if projected < GOAL_SECONDS else "MISSES"
    print(f"ratio to goal: {projected / GOAL_SECONDS:.2f} ({GOAL_FILES:,} files in {projected:.2f} s of "
          f"{GOAL_SECONDS:.1f} s: {verdict} the goal)")
    if busy:
        print("note: wall time is well above CPU time, so other processes share the cores; "
              "CPU time is what the validator itself costs")
    if len(results) > 1:
        (s1, t1), (s2, t2) = results[0], results[-1]
        print(f"growth {s1:,} → {s2:,} files: ×{t2 / t1:.2f} time (linear is ×{s2 / s1:.2f})")


if __name__ == "__main__":
    main()
