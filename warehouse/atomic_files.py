"""A small file beside the store written whole or not at all: under a temporary name in its folder, then renamed.

A reader (another `kpi` process, the dashboard) sees the old file or the new one, never half of one; two writers
of the same file leave one of theirs. Used for the refresh's pending marker (`pending.py`), the shared SQL texts
(`text_cache.py`) and the nothing-new record (`settled.py`).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def replace_text(path: Path, text: str) -> None:
    """Write `text` to `path` (its folder made if missing), replacing what was there in one rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # one per process; the umask's permissions
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
