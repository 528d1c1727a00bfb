"""`validate_paths(..., texts=...)`: unsaved contents checked exactly like files on disk (the form editor's way)."""

from __future__ import annotations

import shutil
from pathlib import Path

from generator.rules.validate import validate_paths


def test_texts_replace_the_disk_and_add_files_not_written_yet(tmp_path: Path, example_kpis_dir: Path):
    kpis = tmp_path / "kpis"
    shutil.copytree(example_kpis_dir, kpis)
    revenue = kpis / "revenue" / "revenue.yaml"
    broken = revenue.read_text().replace("param: value", "param: valeu")
    new = kpis / "leads" / "trial.yaml"
    texts = {revenue: broken.encode(), new: (kpis / "leads" / "leads.yaml").read_bytes().replace(b"kpi: leads", b"kpi: trial")}
    result = validate_paths([kpis], relative_to=tmp_path, texts=texts)
    assert "trial" in result.catalog.kpis and not new.exists()
    assert result.report.files_checked == len(list(kpis.rglob("*.yaml"))) + 1
    on_disk = revenue.read_text()
    revenue.write_text(broken)
    from_disk = validate_paths([kpis], relative_to=tmp_path)
    revenue.write_text(on_disk)
    shown = [(i.code, i.message, i.hint, str(i.location)) for i in result.report.sorted()
             if i.location.file == "kpis/revenue/revenue.yaml"]
    assert shown and shown == [(i.code, i.message, i.hint, str(i.location)) for i in from_disk.report.sorted()
                               if i.location.file == "kpis/revenue/revenue.yaml"]
