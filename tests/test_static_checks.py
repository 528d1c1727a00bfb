"""ruff and mypy are clean today; these tests keep them so (they run in `.ci/run` with the rest)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing():
    result = _run("ruff", "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing():
    # the files mypy checks are in pyproject.toml ([tool.mypy] files)
    result = _run("mypy", "--no-incremental")
    assert result.returncode == 0, result.stdout + result.stderr
