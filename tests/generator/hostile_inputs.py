"""Hostile inputs shared by the robustness tests: ReDoS patterns with the values that make backtracking
engines explode, and helpers to write a small KPI folder around them."""

from __future__ import annotations

import json
from pathlib import Path

# (pattern, a value that takes exponential time in a backtracking engine such as Python's `re`)
REDOS = [
    (r"^(a+)+$", "a" * 31 + "b"),
    (r"^(a|a)*$", "a" * 40 + "b"),
    (r"^(a|aa)+$", "a" * 60 + "b"),
    (r"^([a-zA-Z]+)*$", "a" * 40 + "1"),
    (r"^(\w+\s?)*$", "word " * 19 + "!"),
    (r"^(.*a){20}$", "a" * 60 + "b"),
    (r"(x+x+)+y", "x" * 90),
    (r"^(([a-z])+.)+[A-Z]([a-z])+$", "a" * 40 + "!"),
]

KPI = """version: 1
kpi: quotes
title: Quotes
description: Quote requests.
objective: Grow leads
owner: sales@shop.example
team: sales
measure:
  count: {event: quote_request}
"""


def write_redos_project(root: Path) -> tuple[Path, Path]:
    """(kpis folder, NDJSON of one hostile event per pattern)."""
    kpis = root / "kpis"
    kpis.mkdir(parents=True)
    params = "\n".join(f"      p{i}: {{type: string, pattern: {json.dumps(p)}}}" for i, (p, _v) in enumerate(REDOS))
    (kpis / "events.yaml").write_text("version: 1\nevents:\n  quote_request:\n    trigger: When a quote is "
                                      f"requested.\n    params:\n{params}\n")
    (kpis / "quotes.yaml").write_text(KPI)
    events = root / "events.ndjson"
    events.write_text("\n".join(json.dumps({"event": "quote_request", f"p{i}": v})
                                for i, (_p, v) in enumerate(REDOS)) + "\n")
    return kpis, events
