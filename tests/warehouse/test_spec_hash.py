"""The spec hash (`generator.compile`) covers exactly what the data-quality checks read (`warehouse.quality`),
so a changed events catalog re-checks every loaded day, and it is computed once per command (`Compiled`)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from generator.compile import compile_paths
from warehouse.quality import spec_tables


def hash_of_quality_inputs(catalog: object) -> str:
    """The hash as the refresh log always stored it: over the Arrow tables the quality SQL reads."""
    tables = spec_tables(catalog)  # type: ignore[arg-type]
    payload = json.dumps([tables.params.to_pylist(), tables.events.to_pylist()], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def test_the_spec_hash_is_the_hash_of_what_the_quality_checks_read(example_kpis_dir: Path) -> None:
    compiled = compile_paths([example_kpis_dir])
    assert compiled.ok
    assert compiled.spec_hash == hash_of_quality_inputs(compiled.catalog)
    assert compiled.spec_hash is compiled.spec_hash  # computed once, kept
    assert compiled.plan is compiled.plan and compiled.api_plan is compiled.api_plan


def test_a_changed_param_changes_the_spec_hash(example_kpis_dir: Path, tmp_path: Path) -> None:
    before = compile_paths([example_kpis_dir])
    kpis = tmp_path / "kpis"
    shutil.copytree(example_kpis_dir, kpis)
    events = kpis / "events.yaml"
    text = events.read_text(encoding="utf-8")
    assert "required: true" in text
    events.write_text(text.replace("required: true", "required: false", 1), encoding="utf-8")
    after = compile_paths([kpis])
    assert after.ok
    assert after.spec_hash != before.spec_hash
    assert after.spec_hash == hash_of_quality_inputs(after.catalog)
