"""Shared fixtures."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
_TEXTS: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    """The SQL texts every store shares (`warehouse/text_cache.py`) in a folder of this test run, not the
    user's cache: each worker starts with none, and its tests' stores share them (subprocesses inherit it)."""
    if "KPIBRIDGE_CACHE_DIR" not in os.environ:
        _TEXTS.append(tempfile.mkdtemp(prefix="kpibridge-cache-"))
        os.environ["KPIBRIDGE_CACHE_DIR"] = _TEXTS[-1]


def pytest_unconfigure(config: pytest.Config) -> None:
    for folder in _TEXTS:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def example_kpis_dir() -> Path:
    return REPO / "kpis"
