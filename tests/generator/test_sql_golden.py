"""Golden files for every generated KPI query: tests/golden/sql/<dialect>/<kpi>.sql.

Regenerate after an intended change and review the diff:  KPI_UPDATE_GOLDEN=1 python -m pytest tests/generator -k sql_golden
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from generator.rules.validate import validate_paths
from generator.targets import sql as sql_target
from generator.targets.context import RenderContext

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "sql"
UPDATE = os.environ.get("KPI_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def sql_files(example_kpis_dir: Path) -> dict[str, str]:
    validated = validate_paths([example_kpis_dir])
    assert not validated.report.errors, [str(i.message) for i in validated.report.errors]
    artifacts = sql_target.render(RenderContext(catalog=validated.catalog))
    return {a.path.removeprefix("queries/sql/"): a.content for a in artifacts}


def test_sql_golden_files_match(sql_files: dict[str, str]) -> None:
    if UPDATE:
        for old in GOLDEN.rglob("*.sql"):
            if str(old.relative_to(GOLDEN)) not in sql_files:
                old.unlink()
        for rel, content in sql_files.items():
            target = GOLDEN / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8", newline="\n")
    on_disk = {str(p.relative_to(GOLDEN)) for p in GOLDEN.rglob("*.sql")}
    assert sorted(on_disk) == sorted(sql_files), "files differ: run with KPI_UPDATE_GOLDEN=1 and review"
    stale = [rel for rel, content in sorted(sql_files.items()) if (GOLDEN / rel).read_text(encoding="utf-8") != content]
    assert not stale, f"golden files differ: {stale}; run with KPI_UPDATE_GOLDEN=1 and review the diff"


def test_every_kpi_has_a_query_per_dialect(sql_files: dict[str, str], example_kpis_dir: Path) -> None:
    kpis = {p.stem for p in example_kpis_dir.rglob("*.yaml") if p.name != "events.yaml"}
    active = {rel.split("/")[1].removesuffix(".sql") for rel in sql_files}
    assert active <= kpis
    for kid in active:
        assert {f"duckdb/{kid}.sql", f"bigquery/{kid}.sql"} <= set(sql_files)
