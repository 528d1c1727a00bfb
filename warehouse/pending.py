"""Is the serving copy behind the store? A marker file says a refresh is under way (or stopped half-way).

`kpi refresh` writes the store in one transaction, then rebuilds the serving copy and swaps it in. Between
the store's commit and the swap the serving copy is older than the store; a refresh killed there would leave
the dashboard stale without a word. So the refresh writes `<serving>.pending` (its id and process) before it
writes anything, and the serving copy it swaps in carries the same id (`warehouse_info.refresh_id`); the
marker is removed after the swap. A reader that finds a marker whose id the serving copy does not carry
knows the numbers are being updated, or, when that process is gone, that the last refresh did not finish
and `kpi refresh` must be run (which rebuilds the copy from the store: nothing committed is lost).

`kill_point(name)` is the fault-injection hook of the crash tests: when `KPIBRIDGE_KILL_AT` names that
write point, the process kills itself there with SIGKILL, exactly like `kill -9`. It does nothing otherwise.
"""

from __future__ import annotations

import json
import os
import signal
import uuid
from dataclasses import dataclass
from pathlib import Path

from .atomic_files import replace_text

KILL_ENV = "KPIBRIDGE_KILL_AT"
# The refresh's write points, in order (tests/warehouse/test_crash_points.py kills at each in turn)
WRITE_POINTS = ("marked", "store-before-commit", "store-committed", "api-committed", "serving-written",
                "serving-swapped")


def kill_point(name: str) -> None:
    """Fault injection for the crash tests: SIGKILL this process when $KPIBRIDGE_KILL_AT names `name`."""
    if os.environ.get(KILL_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def marker_path(serving: Path) -> Path:
    """`warehouse.serving.duckdb` → `warehouse.serving.pending`."""
    return serving.with_suffix(".pending")


def mark(serving: Path) -> str:
    """Write the marker (atomically) and return the new refresh's id."""
    refresh_id = uuid.uuid4().hex
    replace_text(marker_path(serving), json.dumps({"refresh_id": refresh_id, "pid": os.getpid()}))
    return refresh_id


def clear(serving: Path, refresh_id: str) -> None:
    """Remove the marker if it is still this refresh's."""
    found = _read(marker_path(serving))
    if found and found.get("refresh_id") == refresh_id:
        marker_path(serving).unlink(missing_ok=True)


@dataclass(frozen=True)
class Pending:
    refresh_id: str
    running: bool  # the refreshing process is still alive

    def sentence(self) -> str:
        if self.running:
            return "Numbers being updated: a refresh is running; the values shown are from the previous one."
        return ("Numbers being updated: the last refresh stopped before it finished, so the values shown may be "
                "older than the warehouse. Run `kpi refresh` to bring them up to date.")


def pending(serving: Path, served_refresh_id: str | None) -> Pending | None:
    """The unfinished refresh the serving copy (carrying `served_refresh_id`) is behind, or None."""
    found = _read(marker_path(serving))
    if not found or found.get("refresh_id") == served_refresh_id:
        return None
    return Pending(str(found.get("refresh_id")), _alive(found.get("pid")))


def _read(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8")[:10_000])
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def behind_sentence(serving: Path) -> str | None:
    """What to tell a user of any command when the serving copy is behind the store, or None."""
    if not marker_path(serving).exists():
        return None
    import duckdb  # only when there is a marker: most commands never need it here

    served: str | None = None
    try:
        with duckdb.connect(str(serving), read_only=True) as con:
            row = con.execute("SELECT value FROM warehouse_info WHERE key = 'refresh_id'").fetchone()
            served = None if not row or row[0] is None else str(row[0])
    except duckdb.Error:
        pass  # no copy yet, or busy: judge by the marker alone
    found = pending(serving, served)
    return None if found is None else found.sentence()
