"""Every module imports on its own, first, in a fresh interpreter: no import cycle hides behind the order in
which the tests or the CLI happen to import things (the regrouping of issue 11 had one)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("generator", "warehouse", "dashboards", "editor", "ga4admin", "kpibridge")

# One interpreter imports each module with every project module forgotten before it, so each is imported first.
SCRIPT = """
import importlib, sys
roots, names = set(sys.argv[1].split(",")), sys.argv[2:]
failed = []
for name in names:
    for loaded in [m for m in sys.modules if m.split('.')[0] in roots]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as exc:
        failed.append(f"{name}: {type(exc).__name__}: {exc}")
print("\\n".join(failed))
"""


def modules() -> list[str]:
    names = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            if path.name == "__main__.py" or "streamlit_app" in path.name or path.parent.name == "app_pages":
                continue  # scripts Streamlit runs, not modules to import
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_every_module_imports_first():
    result = subprocess.run([sys.executable, "-c", SCRIPT, ",".join(PACKAGES), *modules()], cwd=REPO, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == ""
