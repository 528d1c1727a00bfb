"""Fixtures for the editor: a copy of the example KPI folder, and the editor app driven by AppTest."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "editor" / "app.py"


@pytest.fixture
def kpis_dir(tmp_path: Path) -> Path:
    """The example KPI folder, copied: the editor writes here, never in the repository."""
    target = tmp_path / "project" / "kpis"
    shutil.copytree(REPO / "kpis", target)
    return target


@pytest.fixture
def editor(kpis_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    st.cache_data.clear()
    monkeypatch.setenv("KPIBRIDGE_EDIT_KPIS", str(kpis_dir))
    monkeypatch.setenv("KPIBRIDGE_DB", str(tmp_path / "no-warehouse.duckdb"))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    return at


def kpi_validate(*args: str) -> subprocess.CompletedProcess[str]:
    """The real `kpi validate`, in a fresh interpreter, as CI runs it."""
    return subprocess.run([sys.executable, "-c", "from kpibridge.cli import main; main()", "validate", *args],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
