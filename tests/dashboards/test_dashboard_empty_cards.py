"""An empty card says why (issue 10 §7): a filter value that never occurs in the data, with the spelling the data
uses, or no data loaded for the period. On a serving copy written by the real `kpi refresh` of a demo warehouse."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from dashboards.empty_cards import why_empty

REPO = Path(__file__).resolve().parents[2]
DACH = """version: 1
kpi: dach_leads
title: Leads from DACH
description: Leads from Germany, Austria and Switzerland.
objective: Grow B2B leads
owner: b2b-marketing@shop.example
team: b2b
measure:
  count:
    event: generate_lead
    where:
      - {dimension: country, in: [DE, AT, CH]}
direction: up
target: 6
"""


def kpi(project: Path, *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "kpibridge", *args], cwd=project, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def serving(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("empty_cards")
    (root / "kpis").mkdir()
    shutil.copy(REPO / "kpis" / "events.yaml", root / "kpis")
    shutil.copy(REPO / "kpis" / "acquisition" / "sessions.yaml", root / "kpis")
    (root / "kpis" / "dach_leads.yaml").write_text(DACH)
    kpi(root, "load", "demo", "--events", "8000", "--days", "10", "--seed", "5", "--db", "w.duckdb")
    kpi(root, "refresh", "--db", "w.duckdb")
    return root / "w.serving.duckdb"


def captions(at) -> list[str]:
    return [c.value for c in at.caption]


def test_the_empty_card_on_the_overview_says_which_value_and_what_the_data_calls_it(serving, app) -> None:
    at = app(serving).run()
    assert not at.exception
    why = [c for c in captions(at) if "filter matches nothing" in c]
    assert len(why) == 1, captions(at)
    assert "DE" in why[0] and "Did you mean" in why[0] and "Germany" in why[0] and "dach\\_leads.yaml" in why[0]
    assert "2 more such values" in why[0]
    # the card with a value explains nothing
    assert sum("filter matches nothing" in c or "No data loaded" in c for c in captions(at)) == 1


def test_the_kpi_page_explains_the_card_too(serving, app) -> None:
    at = app(serving).run()
    at.query_params["kpi"] = "dach_leads"
    at.switch_page("app_pages/kpi.py").run()
    assert not at.exception
    assert any("filter matches nothing" in c and "Germany" in c for c in captions(at))


def test_a_card_with_a_value_needs_no_explanation() -> None:
    import pandas as pd

    from warehouse.periods import Period

    class FakeCard:  # only what why_empty reads
        kpi_id, value, exact_note, days_with_data = "k", 3.0, None, 4
        period = Period(date(2026, 1, 1), date(2026, 1, 7), "Last 7 days")

    findings = pd.DataFrame(columns=["kpi_id", "code", "message", "hint", "file", "line"])
    card = FakeCard()
    assert why_empty(card, findings, date(2026, 1, 1), date(2026, 1, 7)) is None  # type: ignore[arg-type]
    # no value, and the warehouse holds other days only (the dashboard keeps its presets inside the data,
    # so this is a comparison period or a KPI page opened on an older link)
    card.value, card.days_with_data = None, 0
    text = why_empty(card, findings, date(2026, 3, 1), date(2026, 3, 31))  # type: ignore[arg-type]
    assert text is not None and text.startswith("No data loaded for last 7 days (")
    assert "the warehouse holds 1 Mar 2026 – 31 Mar 2026" in text and "`kpi load`" in text
    # data loaded but no event matched and nothing to blame in the files
    text = why_empty(card, findings, date(2026, 1, 1), date(2026, 1, 31))  # type: ignore[arg-type]
    assert text is not None and "none of its events matched" in text
    # a KPI the refresh found empty: its own sentence and hint, with the file
    findings.loc[0] = ["k", "KB633", "the KPI `k` computes nothing over the 31 loaded days (…).",
                       "Check that its events arrive.", "kpis/k.yaml", 8]
    text = why_empty(card, findings, date(2026, 1, 1), date(2026, 1, 31))  # type: ignore[arg-type]
    assert text == "The KPI `k` computes nothing over the 31 loaded days (…). Check that its events arrive. (kpis/k.yaml:8)"
