"""`kpi dashboard` on a fresh home directory, without a terminal: it serves, asks nothing, warns nothing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_fresh_home_no_terminal_serves_without_prompt_or_warnings(warehouse, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    port = _free_port()
    env = {
        **os.environ,
        "HOME": str(home),
        "BROWSER": "true",  # --open (the default) hands the URL to /bin/true instead of a real browser
        "PYTHONPATH": os.environ.get("PYTHONPATH", str(Path(__file__).resolve().parents[2])),
    }
    log = tmp_path / "dashboard.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from kpibridge.cli import main; main()", "dashboard",
             "--db", str(warehouse.path.with_name("warehouse.duckdb")), "--port", str(port), "--host", "127.0.0.1"],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
        try:
            healthy = False
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as reply:
                        healthy = reply.read() == b"ok"
                        break
                except OSError:
                    time.sleep(0.3)
            text = log.read_text()
            assert proc.poll() is None, f"kpi dashboard exited with {proc.returncode}:\n{text}"
            assert healthy, text
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    text = log.read_text()
    assert "Email" not in text and "Welcome to Streamlit" not in text
    assert "No runtime found" not in text
    assert "KPI Bridge dashboard on http://127.0.0.1:" in text
