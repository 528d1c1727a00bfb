"""The editor's writes: every example file survives the form unchanged, new files land in the right folder,
and nothing is ever written outside the KPI folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from editor.checking import check
from editor.events_edit import ParamForm, with_param
from editor.kpi_state import kpi_data, kpi_state
from editor.ui_text import plain
from editor.workspace import UnsafePathError, Workspace, check_id
from editor.yaml_edit import load_text, updated_text

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for p in (REPO / "kpis").rglob("*.yaml") if p.name != "events.yaml")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_opening_and_saving_an_unchanged_kpi_changes_no_byte(path: Path):
    text = path.read_text(encoding="utf-8")
    original = dict(load_text(text))
    assert updated_text(text, kpi_data(kpi_state(original), original, lambda e, p: None)) == text


def test_a_change_rewrites_only_its_own_line_and_keeps_comments():
    text = (REPO / "kpis" / "leads" / "leads.yaml").read_text()
    text = text.replace("target: 6\n", "target: 6  # agreed with sales\n# thresholds follow\n")
    original = dict(load_text(text))
    state = kpi_state(original) | {"k.th.warn": "5.5", "k.tags": "b2b, weekly-review"}
    new = updated_text(text, kpi_data(state, original, lambda e, p: None))
    changed = [(a, b) for a, b in zip(text.splitlines(), new.splitlines(), strict=False) if a != b]
    assert "tags: [b2b, weekly-review]\n" in new  # added after `team`, where the format puts it
    assert "target: 6  # agreed with sales\n# thresholds follow\n" in new
    assert "thresholds: {warn_below: 5.5, critical_below: 4}" in new
    assert "breakdowns: [channel, {param: lead_source}]" in new  # untouched flow style kept as written
    assert len(new.splitlines()) == len(text.splitlines()) + 1 and changed


def test_new_kpi_goes_to_the_folder_of_its_objective(tmp_path: Path):
    ws = Workspace.at(REPO / "kpis")
    catalog = check(ws).validated.catalog
    assert ws.new_kpi_path("trial_starts", "Grow B2B leads", catalog) == (REPO / "kpis/leads/trial_starts.yaml").resolve()
    assert ws.new_kpi_path("nps", "Keep customers happy", catalog) == (REPO / "kpis/keep_customers_happy/nps.yaml").resolve()


@pytest.mark.parametrize("bad", ["", "Revenue", "../evil", "a/b", "x" * 41, "1st", "rev-enue", "nps\n"])
def test_ids_that_are_not_valid_names_are_refused(bad: str):
    with pytest.raises(UnsafePathError):
        check_id(bad)


def test_no_write_outside_the_kpi_folder_even_through_a_symlink(tmp_path: Path):
    kpis, outside = tmp_path / "kpis", tmp_path / "outside"
    kpis.mkdir()
    outside.mkdir()
    os.symlink(outside, kpis / "escape")
    (kpis / "link.yaml").symlink_to(outside / "target.yaml")
    ws = Workspace.at(kpis)
    for path in (kpis / "escape" / "x.yaml", kpis / ".." / "outside" / "x.yaml", kpis / "link.yaml",
                 Path("/etc/passwd.yaml"), kpis / "notes.txt"):
        with pytest.raises(UnsafePathError):
            ws.write(path, "version: 1\n")
    assert list(outside.iterdir()) == []
    written = ws.write(kpis / "growth" / "ok.yaml", "version: 1\n")
    assert written.read_text() == "version: 1\n" and oct(written.stat().st_mode & 0o777) == "0o644"


def test_every_text_is_shown_as_typed_never_as_markdown_or_html():
    text = "[click](https://evil.example) ![img](x.png) <b>bold</b> **x** `code` # h"
    escaped = plain(text)
    assert "](" not in escaped and "<b>" not in escaped and "**" not in escaped
    assert escaped.replace("\\", "") == text


def test_param_added_to_a_built_in_event_the_file_does_not_declare_yet():
    text = "# catalog\nversion: 1\nevents:\n  purchase:\n    trigger: On the thank-you page.\n"
    new = with_param(text, "page_view", "page_type", ParamForm(type="string", allowed="home, product"))
    assert new == text + "  page_view:\n    params:\n      page_type:\n        type: string\n        enum: [home, product]\n"


def test_first_ever_and_is_set_survive_the_form_both_ways():
    """Issue 10 §6: a KPI with `first_ever` and an `is_set` condition opens in the form and saves unchanged."""
    measure = {"conversion": {"from": {"event": "sign_up", "first_ever": True},
                              "to": {"event": "purchase", "where": [{"param": "transaction_id", "is_set": True}]},
                              "within": "7d", "per": "user"}}
    data = {"version": 1, "kpi": "new_signup_purchase", "title": "T", "description": "D", "objective": "O",
            "owner": "o@shop.example", "team": "t", "measure": measure}
    state = kpi_state(data)
    assert state["k.m.from.first_ever"] is True
    assert state["k.m.to.where.0.op"] == "is_set" and state["k.m.to.where.0.value"] == "true"
    assert kpi_data(state, data, lambda _e, _p: None)["measure"] == measure
    state["k.m.to.where.0.value"] = "false"
    state["k.m.from.first_ever"] = False
    saved = kpi_data(state, data, lambda _e, _p: None)["measure"]["conversion"]
    assert saved["from"] == "sign_up"
    assert saved["to"]["where"] == [{"param": "transaction_id", "is_set": False}]
