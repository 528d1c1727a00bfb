"""Which GA4 export table a file holds (daily or intraday), and which files of each day a load keeps.

GA4 writes `events_YYYYMMDD` (the daily table, complete) and `events_intraday_YYYYMMDD` (streamed during
the day, replaced by the daily table when it completes). A file says which one it is by its name: the file
name first (`events_intraday_20240131.parquet`, `events_20240131-000000000001.json.gz`), else the name of
the folder it is in (`events_intraday_20240131/000000000000.parquet`, as `EXPORT DATA … uri='…/*'` writes
it). A file whose name says neither is taken as a daily table. The days come from the rows' `event_date`.

Per day, a load keeps the daily files if there are any (the intraday ones of that day are skipped), else the
intraday files, unless the warehouse already holds that day from a daily table (then the intraday files are
ignored). Of the kept files, a copy (same rows) or a file whose rows are all in another is skipped; files
sharing only some rows are an error, since no choice would be right.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..store import LoadError

DAILY, INTRADAY = "daily", "intraday"
_TABLE_NAME = re.compile(r"(?:^|[^a-z0-9])events_(intraday_)?(\d{8})(?!\d)", re.IGNORECASE)


def export_table(path: Path) -> tuple[str, str | None]:
    """(`daily` or `intraday`, the day the name gives or None) for one export file."""
    for name in (path.name, path.parent.name):
        found = _TABLE_NAME.search(name)
        if found:
            return (INTRADAY if found.group(1) else DAILY), found.group(2)
    return DAILY, None


@dataclass
class DayChoice:
    """What one load does with each day: the files it reads for it, its table, and what it skipped and why."""

    files: dict[str, list[int]] = field(default_factory=dict)  # day → indexes of the files kept for it
    table: dict[str, str] = field(default_factory=dict)  # day → daily or intraday
    notes: list[str] = field(default_factory=list)


# For one day and its candidate files: {(a, b): how many of a's rows of that day are also among b's}.
Overlaps = Callable[[str, list[int]], dict[tuple[int, int], int]]


def choose_files(
    paths: Sequence[Path],
    rows: dict[tuple[int, str], int],
    stored: dict[str, str],
    overlaps: Overlaps,
) -> DayChoice:
    """Decide, day by day, which files to load.

    `rows` holds the rows of each (file index, day); `stored` the table each day already in the warehouse
    came from (`daily` also for days loaded before the table was recorded, or from the demo).
    """
    choice = DayChoice()
    days: dict[str, list[int]] = {}
    for (index, day) in sorted(rows, key=lambda k: (k[1], k[0])):
        days.setdefault(day, []).append(index)
    for day, indexes in sorted(days.items()):
        daily = [i for i in indexes if export_table(paths[i])[0] == DAILY]
        intraday = [i for i in indexes if i not in daily]
        shown = _iso(day)
        if daily and intraday:
            choice.notes.append(f"{shown}: the daily table ({_names(paths, daily)}) replaces the intraday one; "
                                f"skipped {_names(paths, intraday)}.")
        if not daily and stored.get(day) == DAILY:
            choice.notes.append(f"{shown}: ignored {_names(paths, intraday)}, since the warehouse already holds "
                                "this day from the daily table (intraday data never replaces it).")
            continue
        candidates = daily or intraday
        shared = overlaps(day, candidates) if len(candidates) > 1 else {}
        kept = _without_copies(paths, candidates, day, rows, shared, choice.notes)
        choice.files[day] = kept
        choice.table[day] = DAILY if daily else INTRADAY
        if stored.get(day) == INTRADAY and daily:
            choice.notes.append(f"{shown}: the daily table replaces the provisional intraday data loaded before.")
    return choice


def _without_copies(paths: Sequence[Path], indexes: list[int], day: str, rows: dict[tuple[int, str], int],
                    shared: dict[tuple[int, int], int], notes: list[str]) -> list[int]:
    """The files of one day and table, less copies and files whose rows another file of the day holds."""
    kept: list[int] = []
    for index in sorted(indexes, key=lambda i: (-rows[(i, day)], i)):  # largest first: a subset comes later
        dropped = False
        for other in kept:
            in_other = shared.get((index, other), 0)
            if in_other == rows[(index, day)]:
                same = rows[(index, day)] == rows[(other, day)]
                notes.append(f"{_iso(day)}: skipped {paths[index]}, "
                             + (f"a copy of {paths[other]}." if same else
                                f"its {rows[(index, day)]:,} rows are all in {paths[other]}."))
                dropped = True
                break
            if in_other:
                raise LoadError(
                    f"{paths[index]} and {paths[other]} share {in_other:,} of the events of {_iso(day)}, but "
                    "neither holds all of the other's: are they two different exports of that day? "
                    "Load only one of them (the newest, or the complete daily table).")
        if not dropped:
            kept.append(index)
    return sorted(kept)


def _names(paths: Sequence[Path], indexes: list[int]) -> str:
    names = [paths[i].name for i in indexes]
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _iso(day: str) -> str:
    return f"{day[:4]}-{day[4:6]}-{day[6:]}"
