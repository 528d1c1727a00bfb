"""Spec-stamped events: the version changes exactly when what IT implements changes, and `kpi diff` says
which KPIs wait for which change to go live."""

from __future__ import annotations

import json
from pathlib import Path

from test_diff import make_pair, snapshot

from generator.rules.validate import validate_paths
from generator.spec.diff import diff_snapshots, to_json, to_markdown
from generator.spec.model import build_spec


def versions(folder: Path) -> dict[str, str]:
    spec = build_spec(validate_paths([folder / "kpis"], relative_to=folder).catalog)
    return {e.name: e.spec_version for e in spec.events}


def test_the_version_changes_with_what_it_implements_only(tmp_path: Path) -> None:
    old, new, _ = make_pair("param_made_required", tmp_path / "a")
    before, after = versions(old), versions(new)
    changed = {n for n in before if before[n] != after.get(n)}
    assert changed == {"sign_up"}, "only the event whose param became required (sign_up.referral_code)"
    _, described, _ = make_pair("trigger_changed", tmp_path / "b")
    assert versions(described) == before, "a new trigger text changes no code: same version"
    assert all(len(v) == 8 for n, v in before.items() if v)


def test_diff_names_the_kpis_waiting_for_a_change_to_go_live(tmp_path: Path) -> None:
    old, new, _ = make_pair("param_made_required", tmp_path)
    diff = diff_snapshots(snapshot(old), snapshot(new))
    v_old, v_new = versions(old)["sign_up"], versions(new)["sign_up"]
    [waiting] = diff.waiting
    assert (waiting.event, waiting.old_version, waiting.new_version) == ("sign_up", v_old, v_new)
    kpis = sorted(snapshot(new)["events"]["sign_up"]["kpis"])
    assert kpis and [k for k, _ in waiting.kpis] == kpis and all(o for _, o in waiting.kpis)
    [entry] = json.loads(to_json(diff, "a", "b"))["waiting_to_go_live"]
    assert entry["new_version"] == v_new and [k["id"] for k in entry["kpis"]] == kpis
    md = to_markdown(diff, "main", "HEAD")
    assert "#### Waiting to go live" in md
    assert f"| `sign_up` | `{v_old}` → `{v_new}` | `{kpis[0]}` (" in md


def test_no_waiting_without_a_change(example_kpis_dir: Path) -> None:
    snap = snapshot(example_kpis_dir.parent)
    assert diff_snapshots(snap, snap).waiting == []
