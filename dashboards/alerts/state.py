"""The state file: which conditions were already sent, so an unchanged one is not sent every run.

A condition is identified by KPI, kind and key (`revenue|status|critical`, `leads|event_stopped|generate_lead`).
A run sends the conditions the file does not hold; then the file holds exactly the current conditions, so
one that clears and comes back is sent again, and a warning that turns critical is a new condition.
Written to a temporary file and renamed, so a killed run leaves the previous state.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

VERSION = 1


class StateError(ValueError):
    """The state file is not one `kpi alerts` wrote."""


def load_state(path: Path | None) -> dict[str, dict[str, str]]:
    if path is None or not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != VERSION or not isinstance(data.get("sent"), dict):
            raise ValueError("unexpected contents")
    except (ValueError, AttributeError) as error:
        raise StateError(f"{path} is not a `kpi alerts` state file ({error}). Move it away or pass another "
                         "--state file; a new one is written at the end of the run.") from None
    return data["sent"]


def new_conditions(current: dict[str, str], sent: dict[str, dict[str, str]]) -> set[str]:
    """Keys of the conditions that hold now and were not sent before."""
    return {key for key in current if key not in sent}


def save_state(path: Path, current: dict[str, str], sent: dict[str, dict[str, str]]) -> None:
    """Remember the current conditions (keeping when each was first sent)."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    kept = {key: {"first_sent": sent.get(key, {}).get("first_sent", now), "text": text}
            for key, text in sorted(current.items())}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
    tmp.write_text(json.dumps({"version": VERSION, "updated": now, "sent": kept}, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
