"""The KPI folder the editor works on: where files are, where a new KPI goes, and safe writes.

Every write goes through `Workspace.write`, which resolves the path (symlinks included) and refuses
anything outside the KPI folder, then replaces the file atomically (temporary file + rename).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from generator.models._base import ID_PATTERN
from generator.parse.catalog import KpiCatalog
from generator.parse.discovery import discover_files

EVENTS_FILE = "events.yaml"
_ID = re.compile(ID_PATTERN)


class UnsafePathError(ValueError):
    """A path that would leave the KPI folder, or an id that is not a valid name."""


def check_id(kpi_id: str) -> str:
    """The id itself if it is a valid KPI id (lowercase letters, digits, `_`; a letter first; at most 40)."""
    if not _ID.fullmatch(kpi_id or ""):
        raise UnsafePathError(
            f"`{kpi_id}` is not a valid KPI id: use lowercase letters, digits and `_`, starting with a letter "
            "(at most 40 characters), e.g. `trial_sign_ups`.")
    return kpi_id


def folder_name(objective: str) -> str:
    """A folder name for an objective nobody uses yet: `Grow B2B leads` → `grow_b2b_leads`."""
    slug = re.sub(r"[^a-z0-9]+", "_", objective.lower()).strip("_")[:40]
    return slug or "kpis"


@dataclass(frozen=True)
class Workspace:
    root: Path  # the KPI folder, resolved

    @classmethod
    def at(cls, folder: Path) -> Workspace:
        return cls(folder.resolve())

    def files(self) -> list[Path]:
        return discover_files([self.root])

    def display(self, path: Path) -> str:
        """The path as `kpi validate` run in the KPI folder's parent shows it (`kpis/revenue/revenue.yaml`)."""
        return str(path.relative_to(self.root.parent))

    def events_file(self, catalog: KpiCatalog) -> Path:
        """The events catalog the editor writes to: the first one loaded, else `events.yaml` at the top."""
        for doc in catalog.events_docs:
            return self.inside(self.root.parent / doc.path)
        return self.root / EVENTS_FILE

    def new_kpi_path(self, kpi_id: str, objective: str, catalog: KpiCatalog) -> Path:
        """`<folder of the objective>/<id>.yaml`: the folder most KPIs of that objective are in."""
        check_id(kpi_id)
        folders = Counter(self.inside(self.root.parent / sk.doc.path).parent
                          for sk in catalog.kpis.values() if sk.kpi.objective == objective)
        # the folder with most of them; on a tie, the first by name (the same answer every time)
        ranked = sorted(folders.items(), key=lambda item: (-item[1], str(item[0])))
        folder = ranked[0][0] if ranked else self.root / folder_name(objective)
        return self.inside(folder / f"{kpi_id}.yaml")

    def schema_prefix(self, path: Path) -> str:
        """The relative path from a file's folder to `kpi.schema.json` at the top of the KPI folder."""
        depth = len(path.relative_to(self.root).parts) - 1
        return "../" * depth

    def inside(self, path: Path) -> Path:
        """`path` resolved (symlinks followed); refuses anything that is not under the KPI folder."""
        resolved = path.resolve()
        if resolved != self.root and self.root not in resolved.parents:
            raise UnsafePathError(f"{path} is outside the KPI folder {self.root}; the editor writes only there.")
        if resolved.suffix not in (".yaml", ".yml"):
            raise UnsafePathError(f"{path} is not a YAML file; the editor writes only KPI files.")
        return resolved

    def read(self, path: Path) -> str:
        target = self.inside(path)
        return target.read_text(encoding="utf-8") if target.exists() else ""

    def write(self, path: Path, text: str) -> Path:
        """Replace the file atomically; the folder is created when it is new (inside the KPI folder only)."""
        target = self.inside(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        self.inside(target)  # the folder just made may not be a symlink out either
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
            if target.exists():
                os.chmod(tmp, target.stat().st_mode & 0o777)
            else:
                os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target
