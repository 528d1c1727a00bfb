"""Issue 12: what passes `kpi validate` can be run; patterns are RE2 (linear time); only regular files of
bounded size are read. Each test reproduces a failure of the code before the fix (hang, traceback, memory)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hostile_inputs import REDOS, write_redos_project

from generator.rules.validate import validate_paths

REPO = Path(__file__).resolve().parents[2]


def kpi(*args: str, cwd: Path, timeout: float = 120, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "kpibridge", *args], cwd=cwd, env=env, input=stdin,
                          capture_output=True, timeout=timeout)


def test_redos_patterns_pass_validate_and_check_events_finishes(tmp_path: Path) -> None:
    kpis, events = write_redos_project(tmp_path)
    assert not validate_paths([kpis]).report.errors  # RE2 runs each of them in linear time: nothing to reject
    # Python's `re` needs hours for these lines; RE2 answers at once (a hang fails the run at the timeout)
    done = kpi("check-events", str(events), "--kpis", str(kpis), "--format", "json", cwd=tmp_path, timeout=100)
    assert done.returncode == 1, done.stderr
    import json

    report = json.loads(done.stdout)
    assert report["events"] == len(REDOS) and report["invalid"] == len(REDOS)
    kinds = {p["kind"] for r in report["results"] for p in r["problems"]}
    assert kinds == {"pattern_mismatch"}
    assert b"Traceback" not in done.stderr


def test_check_events_refuses_a_catalog_pattern_re2_rejects(tmp_path: Path) -> None:
    kpis, events = write_redos_project(tmp_path)
    text = (kpis / "events.yaml").read_text().replace(REDOS[0][0].replace("\\", "\\\\"), "([unclosed")
    (kpis / "events.yaml").write_text(text)
    done = kpi("check-events", str(events), "--kpis", str(kpis), cwd=tmp_path)
    assert done.returncode == 2
    assert b"Traceback" not in done.stderr and b"kpi validate" in done.stderr
    issues = validate_paths([kpis]).report.errors
    assert [(i.code, i.location.line) for i in issues] == [("KB441", 6)]
    assert "missing ]" in issues[0].message


@pytest.mark.parametrize("command", ["validate", "check-events"])
def test_a_fifo_is_refused_not_waited_on(tmp_path: Path, command: str) -> None:
    fifo = tmp_path / "kpi.yaml"
    os.mkfifo(fifo)
    args = [command, str(fifo)] if command == "validate" else [command, str(fifo), "--kpis", str(REPO / "kpis")]
    done = kpi(*args, cwd=tmp_path, timeout=60)  # the old code blocked here forever
    assert done.returncode in (1, 2)
    assert b"pipe (FIFO), not a regular file" in done.stdout + done.stderr


@pytest.mark.parametrize("command", ["validate", "check-events"])
def test_dev_zero_is_refused_without_reading_it(tmp_path: Path, command: str) -> None:
    args = [command, "/dev/zero"] if command == "validate" else [command, "/dev/zero", "--kpis", str(REPO / "kpis")]
    done = kpi(*args, cwd=tmp_path, timeout=60)  # the old code read until a MemoryError
    assert done.returncode in (1, 2)
    assert b"a device, not a regular file" in done.stdout + done.stderr
    assert b"Traceback" not in done.stderr


def test_a_huge_sparse_file_is_refused_by_its_size(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as f:
        f.truncate(3 * 1024**3)  # 3 GB of holes: no disk used, but reading it would take 3 GB of memory
    report = validate_paths([big], relative_to=tmp_path).report
    assert [(i.code, i.location.file) for i in report.errors] == [("KB101", "big.yaml")]
    assert "3221.2 MB" in report.errors[0].message
    events = tmp_path / "events.ndjson"
    with events.open("wb") as f:
        f.truncate(3 * 1024**3)
    done = kpi("check-events", str(events), "--kpis", str(REPO / "kpis"), cwd=tmp_path, timeout=60)
    assert done.returncode == 2 and b"more than the 200.0 MB allowed" in done.stderr


def test_stdin_is_bounded_too(tmp_path: Path) -> None:
    import io

    from generator.parse.bounded_read import FileTooLarge, read_stream

    with pytest.raises(FileTooLarge):
        read_stream(io.BytesIO(b"x" * 11), 10)
    assert read_stream(io.BytesIO(b"x" * 10), 10) == b"x" * 10
