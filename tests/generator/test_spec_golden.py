"""Golden files for every spec target over the example KPIs (kpis/).

Regenerate after an intended change and review the diff:  KPI_UPDATE_GOLDEN=1 python -m pytest tests/generator -k spec_golden
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from generator.rules.validate import validate_paths
from generator.targets.build import build_artifacts

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "spec"
UPDATE = os.environ.get("KPI_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def spec_artifacts(example_kpis_dir: Path) -> dict[str, str]:
    validated = validate_paths([example_kpis_dir])
    assert not validated.report.errors, [str(i.message) for i in validated.report.errors]
    artifacts = build_artifacts(validated.catalog)
    return {a.path.removeprefix("spec/"): a.content for a in artifacts if a.path.startswith("spec/")}


def test_golden_files_match(spec_artifacts: dict[str, str]) -> None:
    if UPDATE:
        for old in GOLDEN.rglob("*"):
            if old.is_file() and str(old.relative_to(GOLDEN)) not in spec_artifacts:
                old.unlink()
        for rel, content in spec_artifacts.items():
            target = GOLDEN / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8", newline="\n")
    on_disk = {str(p.relative_to(GOLDEN)) for p in GOLDEN.rglob("*") if p.is_file()}
    assert sorted(on_disk) == sorted(spec_artifacts), "files differ: run with KPI_UPDATE_GOLDEN=1 and review"
    stale = [rel for rel, content in sorted(spec_artifacts.items())
             if (GOLDEN / rel).read_text(encoding="utf-8") != content]
    assert not stale, f"golden files differ: {stale}; run with KPI_UPDATE_GOLDEN=1 and review the diff"


def test_every_spec_target_has_golden_files(spec_artifacts: dict[str, str]) -> None:
    kinds = {"index.html", "tracking-plan.md", "tracking.ts", "ga4-admin.json", "catalog.json"}
    assert kinds <= set(spec_artifacts)
    assert any(p.startswith("events/") and p.endswith(".schema.json") for p in spec_artifacts)
    assert any(p.endswith(".gtag.js") for p in spec_artifacts)
    assert any(p.endswith(".datalayer.js") for p in spec_artifacts)
