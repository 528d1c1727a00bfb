"""The data-quality checks against the event spec (a required param missing, a value of the wrong type, a value
outside its enum, pattern or bounds), counted per event and day by the real `kpi load` and `kpi refresh`, equal
a count made here in plain Python from the spec file itself (read with ruamel.yaml, not our loader).

The values repeat across events and days (the statement judges each distinct value of a spec param once) and
come in every typed slot of GA4's `value` record (string, int, float, double), so a value is told apart from
another whose text or number is the same in a different slot."""

from __future__ import annotations

import math
import re
import shutil
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from ga4_rows import event, load_and_refresh
from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parents[2]
D1, D2 = "20240401", "20240402"

# added to a copy of the shop's events.yaml: an integer with bounds and a boolean
EXTRA = """
  rate_item:
    trigger: When a customer rates a product.
    params:
      stars:
        type: integer
        required: true
        min: 1
        max: 5
      liked:
        type: boolean
"""


def value(string: str | None = None, integer: int | None = None, double: float | None = None,
          single: float | None = None) -> dict:
    return {"string_value": string, "int_value": integer, "float_value": single, "double_value": double}


PAID = {"transaction_id": value("T1"), "currency": value("EUR"), "value": value(double=12.5)}
# GA4's requirements of `purchase` as the spec adds them to the shop's file: transaction_id (shared/reference/
# ga4.md, recommended events), and currency and value, without which GA4 counts no revenue
GA4_PURCHASE = {"transaction_id": {"type": "string", "required": True},
                "currency": {"type": "string", "required": True, "pattern": "^[A-Z]{3}$"},
                "value": {"type": "number", "required": True, "min": 0}}


def with_params(day: str, second: int, name: str, user: str, params: dict[str, dict]) -> dict:
    row = event(day, second, name, user, second)
    row["event_params"] += [{"key": k, "value": v} for k, v in params.items()]
    return row


def crafted() -> list[dict]:
    cases: list[tuple[str, dict[str, dict]]] = [
        ("generate_lead", {"lead_source": value("newsletter"), "value": value(double=30.0), "currency": value("EUR")}),
        ("generate_lead", {"lead_source": value("newsletter"), "value": value(double=30.0), "currency": value("EUR")}),
        ("generate_lead", {"lead_source": value("newsletter"), "value": value(integer=-5), "currency": value("EUR")}),
        ("generate_lead", {"lead_source": value("newsletter"), "value": value(single=-0.5), "currency": value("eur")}),
        ("generate_lead", {"lead_source": value("fax"), "value": value("30"), "currency": value("EUR")}),
        ("generate_lead", {"value": value(integer=10)}),  # lead_source missing
        ("generate_lead", {"lead_source": value(integer=3), "currency": value(integer=978)}),
        ("generate_lead", {"lead_source": value("webinar"), "currency": value("eur")}),
        ("sign_up", {"method": value("email")}),
        ("sign_up", {"method": value("facebook")}),
        ("sign_up", {"method": value("facebook")}),
        ("sign_up", {}),
        ("sign_up", {"method": value(integer=1)}),
        ("purchase", {**PAID, "payment_type": value("card")}),
        ("purchase", {**PAID, "payment_type": value("cash")}),
        ("purchase", {**PAID, "payment_type": value(double=1.5)}),
        ("purchase", {"transaction_id": value("T2"), "value": value(double=12.5)}),  # no currency
        ("rate_item", {"stars": value(integer=4), "liked": value(integer=1)}),
        ("rate_item", {"stars": value(integer=9), "liked": value("true")}),
        ("rate_item", {"stars": value(double=4.0), "liked": value("yes")}),
        ("rate_item", {"stars": value(double=4.5), "liked": value(integer=2)}),
        ("rate_item", {"stars": value("4")}),
        ("rate_item", {"liked": value(integer=0)}),  # stars missing
        ("rate_item", {"stars": value(integer=0), "liked": value("FALSE")}),
    ]
    rows = []
    for day in (D1, D2):  # every case on both days: the same values again, judged again
        for i, (name, params) in enumerate(cases):
            rows.append(with_params(day, 10 + i, name, f"u{i}", params))
    rows += [event(D1, 500, "page_view", "u99", 99), event(D2, 500, "page_view", "u99", 99)]
    return rows


def spec(events_yaml: Path) -> dict[str, dict[str, dict]]:
    doc = YAML(typ="safe").load(events_yaml.read_text())
    rules = {name: dict(body.get("params") or {}) for name, body in doc["events"].items()}
    rules["purchase"] = {**GA4_PURCHASE, **rules["purchase"]}
    return rules


def judge(rule: dict, v: dict | None) -> tuple[bool, bool, bool]:
    """(missing_required, wrong_type, out_of_range) of one param, as the spec says it."""
    if v is None:
        return bool(rule.get("required")), False, False
    s, i, f, d = v["string_value"], v["int_value"], v["float_value"], v["double_value"]
    kind = rule.get("type")
    wrong = {"string": s is None,
             "integer": i is None and not any(x is not None and x == math.floor(x) for x in (d, f)),
             "number": i is None and d is None and f is None,
             "boolean": not (i in (0, 1) or (s is not None and s.lower() in ("true", "false")))}.get(kind, False)
    text = s if s is not None else (str(i) if i is not None else None)
    number = next((x for x in (d, f, i) if x is not None), None)
    out = ("enum" in rule and text is not None and text not in rule["enum"]) \
        or ("pattern" in rule and s is not None and not re.fullmatch(rule["pattern"], s)) \
        or ("min" in rule and number is not None and number < rule["min"]) \
        or ("max" in rule and number is not None and number > rule["max"])
    return False, wrong, out


def expected(rows: list[dict], rules: dict[str, dict[str, dict]]) -> dict[tuple[str, str], dict[str, int]]:
    out: dict[tuple[str, str], Counter] = {}
    for r in rows:
        c = out.setdefault((f"{r['event_date'][:4]}-{r['event_date'][4:6]}-{r['event_date'][6:]}",
                            r["event_name"]), Counter())
        first: dict[str, dict] = {}
        for p in r["event_params"]:
            first.setdefault(p["key"], p["value"])
        flags = [judge(rule, first.get(name)) for name, rule in rules.get(r["event_name"], {}).items()]
        missing, wrong, out_of_range = (any(f[k] for f in flags) for k in range(3))
        c["missing_required"] += missing
        c["wrong_type"] += wrong
        c["out_of_range"] += out_of_range
        c["invalid_events"] += missing or wrong or out_of_range
    return {k: {n: v[n] for n in ("invalid_events", "missing_required", "wrong_type", "out_of_range")}
            for k, v in out.items()}


@pytest.fixture(scope="module")
def checked(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("spec_checks")
    kpis = folder / "kpis"
    shutil.copytree(REPO / "kpis", kpis)
    events_yaml = kpis / "events.yaml"
    events_yaml.write_text(events_yaml.read_text().rstrip("\n") + "\n" + EXTRA)
    rows = crafted()
    db, _ = load_and_refresh(rows, folder, kpis)
    return db, expected(rows, spec(events_yaml))


def test_each_spec_check_is_counted_per_event_and_day_as_the_spec_says(checked) -> None:
    db, want = checked
    assert want[("2024-04-01", "generate_lead")] == {"invalid_events": 6, "missing_required": 1, "wrong_type": 2,
                                                     "out_of_range": 5}  # worked out by hand too
    assert all(v["wrong_type"] and v["out_of_range"] for k, v in want.items() if k[1] != "page_view")
    with duckdb.connect(str(db), read_only=True) as con:
        got = {(str(d), e): {"invalid_events": n, "missing_required": m, "wrong_type": w, "out_of_range": o}
               for d, e, n, m, w, o in con.execute(
                   "SELECT date, event_name, invalid_events, missing_required, wrong_type, out_of_range "
                   "FROM event_quality").fetchall()}
    assert got == want
