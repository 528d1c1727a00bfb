"""A small serving database built to the serving contract (warehouse/serving_contract.py).

Tests build it, then compute what the dashboard should show from `Fixture.values` etc. in plain
Python, independently of the dashboard's own arithmetic. The benchmark builds a large one with
`generic_kpis`.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
from fixture_kpis import (  # noqa: F401 - re-exported for the tests
    API_CAVEATS,
    API_ONLY,
    BOUNCE_API_NOTE,
    CHANNELS,
    DATA_END,
    DATA_START,
    DEVICES,
    Fixture,
    KpiSpec,
    generic_kpis,
    small_kpis,
)

from warehouse.serving_contract import (
    CONTRACT_VERSION,
    VERSION_KEY,
    create_statements,
    write_breakdown_choices,
)

COMPUTED_AT = datetime(2026, 10, 29, 6, 0)

# The tables, columns and types come from the contract the warehouse writes and the dashboard reads.
DDL = ";\n".join(create_statements()) + ";"
CONTRACT_INFO = [{"key": VERSION_KEY, "value": str(CONTRACT_VERSION)}]

# Returning users came from the Data API only on 1–20 Mar 2026; GA4 flagged two of those days.
def build_serving_db(
    path: Path,
    kpis: list[KpiSpec] | None = None,
    start: date = DATA_START,
    end: date = DATA_END,
    seed: int = 7,
) -> Fixture:
    """Write a serving database at `path` and return the rows written."""
    kpis = small_kpis() if kpis is None else kpis
    rng = random.Random(seed)
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    values = [row for kpi in kpis for row in _kpi_values(kpi, days, rng)]
    quality = _event_quality(kpis, days, rng)
    status = _event_status(kpis, quality)
    caveats = _caveats(kpis, values)
    fixture = Fixture(Path(path), kpis, values, quality, status, start, end, caveats)
    _write(fixture)
    return fixture


def build_empty_db(path: Path) -> None:
    """A serving database with the contract's tables and no rows (a refresh over no data)."""
    with duckdb.connect(str(path)) as con:
        con.execute(DDL)
        con.execute("INSERT INTO warehouse_info VALUES (?, ?)", [VERSION_KEY, str(CONTRACT_VERSION)])


def _caveats(kpis: list[KpiSpec], values: list[dict]) -> list[dict]:
    """Caveat rows for the KPIs' flagged days: each must name a `ga4_api` total that was written."""
    api_totals = {
        (row["kpi_id"], row["date"])
        for row in values
        if row["source"] == "ga4_api" and row["breakdown"] == ""
    }
    rows = []
    for kpi in kpis:
        for day, flags in sorted(kpi.caveats.items()):
            if (kpi.kpi_id, day) not in api_totals:
                continue  # the day is outside the fixture's range
            rows.append(
                {
                    "kpi_id": kpi.kpi_id,
                    "date": day,
                    "breakdown": "",
                    "breakdown_value": "",
                    "source": "ga4_api",
                    "caveats": sorted(flags),
                }
            )
    return rows


def _hash(kpi: KpiSpec, day: date) -> str:
    changes = sum(1 for change in kpi.changes if change <= day)
    return f"{kpi.kpi_id}-v{changes + 1}"


def _kpi_values(kpi: KpiSpec, days: list[date], rng: random.Random):
    for day in days:
        weekly = 1.0 + 0.08 * (day.weekday() < 5)
        api_only = kpi.api_only is not None and kpi.api_only[0] <= day <= kpi.api_only[1]
        common = {
            "kpi_id": kpi.kpi_id,
            "date": day,
            "definition_hash": _hash(kpi, day),
            "source": "ga4_api" if api_only else "ga4_export",
            "computed_at": COMPUTED_AT,
        }
        if kpi.aggregation == "ratio":
            den = round(kpi.volume * weekly * rng.uniform(0.8, 1.2))
            num = round(den * kpi.level * rng.uniform(0.85, 1.15))
            yield {
                **common,
                "breakdown": "",
                "breakdown_value": "",
                "value": num / den,
                "numerator": float(num),
                "denominator": float(den),
            }
        else:
            value = round(kpi.level * weekly * rng.uniform(0.7, 1.3), 2)
            num = value if kpi.aggregation == "sum" else None
            den = None
            yield {
                **common,
                "breakdown": "",
                "breakdown_value": "",
                "value": value,
                "numerator": num,
                "denominator": None,
            }
            if kpi.api_copy and not api_only:
                api = round(value * 0.97, 2)
                yield {
                    **common,
                    "source": "ga4_api",
                    "breakdown": "",
                    "breakdown_value": "",
                    "value": api,
                    "numerator": api,
                    "denominator": None,
                }
        for dimension, members in kpi.breakdowns.items():
            # Falling shares, so the top values are stable and the tail folds into "Other".
            weights = [1 / (rank + 1.5) for rank in range(len(members))]
            total_weight = sum(weights)
            for member, weight in zip(members, weights, strict=True):
                share = weight / total_weight
                if kpi.aggregation == "ratio":
                    part_den = float(round(den * share))
                    part_num = float(round(num * share * rng.uniform(0.7, 1.3)))
                    part = part_num / part_den if part_den else None
                    yield {
                        **common,
                        "breakdown": dimension,
                        "breakdown_value": member,
                        "value": part,
                        "numerator": part_num,
                        "denominator": part_den,
                    }
                elif kpi.aggregation == "sum":
                    part = round(value * share, 2)
                    yield {
                        **common,
                        "breakdown": dimension,
                        "breakdown_value": member,
                        "value": part,
                        "numerator": part,
                        "denominator": None,
                    }
                else:
                    part = round(value * rng.uniform(0.6, 1.4), 2)
                    yield {
                        **common,
                        "breakdown": dimension,
                        "breakdown_value": member,
                        "value": part,
                        "numerator": None,
                        "denominator": None,
                    }


# Event behaviour in the small fixture: user_engagement is 30% invalid; sign_up stops on 1 Oct 2026.
INVALID_SHARE = {"user_engagement": 0.30}
STOPS = {"sign_up": date(2026, 10, 1)}


def _event_quality(kpis: list[KpiSpec], days: list[date], rng: random.Random) -> list[dict]:
    names = sorted({name for kpi in kpis for name in kpi.events})
    rows = []
    for name in names:
        for day in days:
            if name in STOPS and day >= STOPS[name]:
                continue
            events = rng.randint(800, 1200)
            invalid = round(events * INVALID_SHARE.get(name, 0.01))
            rows.append(
                {
                    "event_name": name,
                    "date": day,
                    "events": events,
                    "invalid_events": invalid,
                    "missing_required": invalid,
                    "wrong_type": 0,
                    "out_of_range": 0,
                    "pii_suspect": 0,
                    "in_spec": True,
                }
            )
    return rows


def _event_status(kpis: list[KpiSpec], quality: list[dict]) -> list[dict]:
    status: dict[str, dict] = {}
    for row in quality:
        entry = status.setdefault(
            row["event_name"],
            {
                "event_name": row["event_name"],
                "in_spec": True,
                "first_seen": row["date"],
                "last_seen": row["date"],
                "events": 0,
                "invalid_events": 0,
                "kpis": sorted(k.kpi_id for k in kpis if row["event_name"] in k.events),
            },
        )
        entry["first_seen"] = min(entry["first_seen"], row["date"])
        entry["last_seen"] = max(entry["last_seen"], row["date"])
        entry["events"] += row["events"]
        entry["invalid_events"] += row["invalid_events"]
    return list(status.values())


def _write(fixture: Fixture) -> None:
    definitions = [
        {
            "kpi_id": k.kpi_id,
            "title": k.title,
            "description": f"{k.title} across the web shop.",
            "objective": k.objective,
            "owner": k.owner,
            "team": k.team,
            "status": k.status,
            "format": k.format,
            "currency": k.currency,
            "direction": k.direction,
            "time_grain": k.time_grain,
            "aggregation": k.aggregation,
            "breakdowns": list(k.breakdowns),
            "warn_threshold": k.warn,
            "critical_threshold": k.critical,
            "events": k.events,
            "tags": ["fixture"],
            "plain_words": f"{k.title}, {k.aggregation} of its daily values.",
            "definition_hash": _hash(k, fixture.end),
            "source_file": f"kpis/{k.kpi_id}.yaml",
            "api_note": k.api_note,
        }
        for k in fixture.kpis
    ]
    targets = [{"kpi_id": k.kpi_id, "valid_from": d, "value": v} for k in fixture.kpis for d, v in k.targets]
    changes = [
        {"kpi_id": k.kpi_id, "definition_hash": _hash(k, day), "effective_from": day}
        for k in fixture.kpis
        for day in [fixture.start, *k.changes]
    ]
    info = [
        {"key": "refreshed_at", "value": COMPUTED_AT.isoformat()},
        {"key": "data_start", "value": fixture.start.isoformat()},
        {"key": "data_end", "value": fixture.end.isoformat()},
        *CONTRACT_INFO,
    ]
    frames = {
        "kpi_definitions": definitions,
        "kpi_targets": targets,
        "kpi_values": fixture.values,
        "kpi_value_caveats": fixture.caveats,
        "kpi_definition_changes": changes,
        "event_quality": fixture.event_quality,
        "event_status": fixture.event_status,
        "warehouse_info": info,
    }
    fixture.path.unlink(missing_ok=True)
    with duckdb.connect(str(fixture.path)) as con:
        con.execute(DDL)
        for table, rows in frames.items():
            if not rows:
                continue
            # by name: the contract's columns the fixture does not fill stay NULL
            con.register("incoming", pd.DataFrame(rows))
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
            con.unregister("incoming")
        write_breakdown_choices(con)  # as `kpi refresh` publishes it
