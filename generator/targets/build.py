"""`kpi generate`: run every registered target over the catalog, then write the build folder.

`build_artifacts` is pure (catalog in, artifacts out); `write_artifacts` is the one place that touches
the build folder: deterministic, unchanged files left alone, stale files of earlier builds removed, and a
`check` mode that only reports what would change.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..parse.catalog import KpiCatalog
from ..plan.api_plan import ApiPlan
from ..plan.queries import QueryPlan
from ..sql.export_shape import NEWEST, ExportShape
from . import TARGETS, Artifact, PreviousBuild, RenderContext

MANIFEST = ".kpi-build.json"  # the files the last build wrote: only those are ever removed as stale
SNAPSHOT = "spec/catalog.json"


class BuildError(Exception):
    """Two targets claim the same file, or a target failed."""


def build_artifacts(catalog: KpiCatalog, previous: PreviousBuild | None = None,
                    targets: Iterable[object] = TARGETS, export: ExportShape = NEWEST,
                    plan: QueryPlan | None = None, api: ApiPlan | None = None) -> list[Artifact]:
    """Every file of the build, sorted by path; the same catalog always gives the same bytes. The SQL is
    written for GA4 exports of the shape `export` (`sql.export_shape.ERAS`); `plan`: the catalog's query plan
    when the caller has compiled it (`Compiled.plan`), else the query targets compile it; `api` likewise
    (`Compiled.api_plan`)."""
    ctx = RenderContext(catalog=catalog, previous=previous, export=export, plan=plan, api=api)
    by_path: dict[str, tuple[Artifact, str]] = {}
    for target in targets:
        name = getattr(target, "__name__", repr(target)).rsplit(".", 1)[-1]
        for artifact in target.render(ctx):  # type: ignore[attr-defined]
            if artifact.path in by_path:
                raise BuildError(f"targets `{by_path[artifact.path][1]}` and `{name}` both write {artifact.path}")
            by_path[artifact.path] = (artifact, name)
    return [by_path[p][0] for p in sorted(by_path)]


def read_previous_build(out_dir: Path) -> PreviousBuild | None:
    """The last build's snapshot (`spec/catalog.json`), or None when there is none or it is unreadable."""
    try:
        data = json.loads((out_dir / SNAPSHOT).read_text(encoding="utf-8"))
        snapshot = data["snapshot"]
        changes = data.get("changes_since_previous_build")
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(snapshot, dict) or not (changes is None or isinstance(changes, list)):
        return None
    return PreviousBuild(snapshot, changes)


@dataclass
class WriteResult:
    written: list[str] = field(default_factory=list)  # new or changed
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # stale files of an earlier build

    @property
    def changed(self) -> bool:
        return bool(self.written or self.removed)


def _previous_files(out_dir: Path) -> list[str]:
    try:
        files = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return [f for f in files if isinstance(f, str)]


def _inside(out_dir: Path, rel: str) -> Path | None:
    path = (out_dir / rel).resolve()
    return path if path.is_relative_to(out_dir.resolve()) else None


def write_artifacts(out_dir: Path, artifacts: list[Artifact], check: bool = False) -> WriteResult:
    """Write what changed (atomically, file by file) and remove stale files; with `check`, write nothing."""
    result = WriteResult()
    wanted = {a.path for a in artifacts}
    for a in artifacts:
        target = out_dir / a.path
        data = a.content.encode("utf-8")
        try:
            same = target.read_bytes() == data
        except OSError:
            same = False
        if same:
            result.unchanged.append(a.path)
            continue
        result.written.append(a.path)
        if not check:
            _atomic_write(target, data)
    for rel in sorted(set(_previous_files(out_dir)) - wanted):
        path = _inside(out_dir, rel)
        if path is None or not path.is_file():
            continue
        result.removed.append(rel)
        if not check:
            path.unlink()
            _prune_empty_dirs(path.parent, out_dir)
    manifest = json.dumps({"generated_by": "kpi generate", "files": sorted(wanted)}, indent=2) + "\n"
    if not check:
        try:
            current = (out_dir / MANIFEST).read_text(encoding="utf-8")
        except OSError:
            current = ""
        if current != manifest:
            _atomic_write(out_dir / MANIFEST, manifest.encode("utf-8"))
    return result


def _atomic_write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        # mkstemp creates the file 0600; a spec is for colleagues and web servers to read: 0666 less umask.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _prune_empty_dirs(directory: Path, root: Path) -> None:
    root = root.resolve()
    directory = directory.resolve()
    while directory != root and directory.is_relative_to(root):
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent
