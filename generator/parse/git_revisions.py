"""The KPI files as they are in a folder, or as they were at a git revision (`kpi diff main HEAD`).

A revision is read with `git archive` into a temporary folder; the working tree is never touched.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

GIT_TIMEOUT = 60


class RevisionError(Exception):
    """OLD or NEW is neither a folder nor a git revision that holds the KPI files."""


@dataclass(frozen=True)
class KpiSource:
    """Where KPI files were read from: `kpis_dir` to load, `root` to show paths relative to."""

    label: str
    kpis_dir: Path
    root: Path


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=GIT_TIMEOUT, check=False)
    except FileNotFoundError:
        raise RevisionError("git is not installed, so a git revision cannot be read; pass two folders.") from None
    except subprocess.TimeoutExpired:
        raise RevisionError(f"`git {' '.join(args)}` took longer than {GIT_TIMEOUT} s.") from None


def is_revision(rev: str, cwd: Path) -> bool:
    if not rev or rev.startswith("-"):
        return False
    return _git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd).returncode == 0


@contextmanager
def kpis_at(source: str, kpis_subdir: str = "kpis", cwd: Path | None = None) -> Iterator[KpiSource]:
    """A folder (its `kpis_subdir` if it has one) or a git revision, as a folder of KPI files."""
    cwd = cwd or Path.cwd()
    folder = cwd / source
    if folder.is_dir():
        sub = folder / kpis_subdir
        yield KpiSource(source, sub if sub.is_dir() else folder, folder if sub.is_dir() else folder.parent)
        return
    if not is_revision(source, cwd):
        raise RevisionError(f"`{source}` is neither a folder nor a git revision (branch, tag or commit) here.")
    top = _git(["rev-parse", "--show-toplevel"], cwd)
    prefix = _git(["rev-parse", "--show-prefix"], cwd)
    if top.returncode != 0:
        raise RevisionError(f"`{source}` looks like a revision, but {cwd} is not inside a git repository.")
    toplevel = Path(top.stdout.decode().strip())
    here = prefix.stdout.decode().strip()
    # The folder as seen from here, else from the repository's root (`kpi diff main HEAD` in a subfolder).
    candidates = list(dict.fromkeys([(here + kpis_subdir).strip("/"), kpis_subdir.strip("/")]))
    repo_path = next((c for c in candidates if _git(["cat-file", "-e", f"{source}:{c}"], toplevel).returncode == 0),
                     None)
    if repo_path is None:
        raise RevisionError(f"`{candidates[0]}/` does not exist at revision `{source}`; "
                            "pass --kpis-subdir with the folder of the KPI files.")
    archive = _git(["archive", "--format=tar", source, "--", repo_path], toplevel)
    if archive.returncode != 0:
        raise RevisionError(f"cannot read `{repo_path}/` at revision `{source}`: "
                            f"{archive.stderr.decode(errors='replace').strip()}")
    with tempfile.TemporaryDirectory(prefix="kpi-diff-") as tmp:
        root = Path(tmp)
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(root, filter="data")
        yield KpiSource(source, root / repo_path, root)
