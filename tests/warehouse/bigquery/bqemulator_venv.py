"""The BigQuery emulator's own virtual environment: created once, cached, reused (tests and .ci/run call it).

PyPI `bqemulator` (BigQuery's REST API over DuckDB) pins an older sqlglot than KPI Bridge, so it lives in
`.cache/bqemulator-venv` (git-ignored), never in the project's environment. It needs DuckDB's `spatial`
extension, which DuckDB would download at run time (no network there): the PyPI package
`duckdb-extension-spatial` ships it, and it is copied into the extension folder of the emulator's own HOME.

    python tests/warehouse/bigquery/bqemulator_venv.py     # prints the venv's path; fast when it exists
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
VENV = Path(os.environ.get("KPIBRIDGE_BQEMULATOR_VENV", REPO / ".cache" / "bqemulator-venv"))
DUCKDB = "1.5.5"
REQUIREMENTS = ("bqemulator==1.4.0", f"duckdb=={DUCKDB}", f"duckdb-extension-spatial=={DUCKDB}", "numpy")
MARKER = VENV / "kpibridge-ready.txt"


def emulator_home() -> Path:
    """HOME for the emulator process: DuckDB looks for extensions in $HOME/.duckdb/extensions."""
    return VENV / "home"


def ensure_venv() -> Path:
    """Create the venv unless a complete one with the same requirements is there; return its `bqemulator`."""
    VENV.parent.mkdir(parents=True, exist_ok=True)
    wanted = "\n".join(REQUIREMENTS)
    with open(VENV.parent / ".bqemulator-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test processes never build it at once
        if not (MARKER.is_file() and MARKER.read_text() == wanted):
            venv.create(VENV, with_pip=True, clear=True)
            python = VENV / "bin" / "python"
            subprocess.run([str(python), "-m", "pip", "install", "-q", *REQUIREMENTS], check=True)
            site = subprocess.run([str(python), "-c", "import duckdb_extension_spatial, os; "
                                   "print(os.path.dirname(duckdb_extension_spatial.__file__))"],
                                  check=True, capture_output=True, text=True).stdout.strip()
            source = Path(site) / "extensions" / f"v{DUCKDB}" / "spatial.duckdb_extension"
            target = emulator_home() / ".duckdb" / "extensions" / f"v{DUCKDB}" / "linux_amd64"
            target.mkdir(parents=True, exist_ok=True)
            (target / source.name).write_bytes(source.read_bytes())
            MARKER.write_text(wanted)
    return VENV / "bin" / "bqemulator"


if __name__ == "__main__":
    print(ensure_venv().parent.parent)
    sys.exit(0)
