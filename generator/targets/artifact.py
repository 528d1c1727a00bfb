"""An Artifact: one generated file, as a path inside the build folder and its text."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any


@dataclass(frozen=True, order=True)
class Artifact:
    """A file every target returns; `path` is POSIX and relative to the build folder (`spec/index.html`)."""

    path: str
    content: str

    def __post_init__(self) -> None:
        p = PurePosixPath(self.path)
        if p.is_absolute() or ".." in p.parts or not p.parts or "\\" in self.path:
            raise ValueError(f"artifact path must be relative and inside the build folder: {self.path!r}")
        if not self.content.endswith("\n"):
            object.__setattr__(self, "content", self.content + "\n")


def json_artifact(path: str, data: Any) -> Artifact:
    """A JSON file in the one canonical form: sorted keys, 2-space indent, UTF-8, trailing newline."""
    return Artifact(path, json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
