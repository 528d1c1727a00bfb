"""What `kpi values` and `kpi status` say when they find nothing, or find trouble a script should stop on."""

from __future__ import annotations

import enum
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from generator.issues import did_you_mean

# (sql, params) -> (rows, columns): the caller's reader of the serving copy
Reader = Callable[[Path, str, dict[str, object]], tuple[list[tuple[object, ...]], list[str]]]


class FailOn(enum.StrEnum):
    error = "error"
    warning = "warning"


# Event statuses by how bad they are: errors stop a script with --fail-on error; warnings with --fail-on warning.
ERROR_STATUSES = ("missing", "broken")
WARNING_STATUSES = ("not in spec", "some invalid")


def check_labels() -> dict[str, str]:
    """The per-check counts of event_quality, and how `kpi status` names them (warehouse/quality.py; imported here,
    not at start-up: it brings DuckDB and pyarrow, which `kpi --help` has no use for)."""
    from .quality import CHECKS as QUALITY_CHECKS

    return {c.column: c.label for c in QUALITY_CHECKS}


def check_levels() -> dict[str, str]:
    """Each check's level: error or warning (warehouse/quality.py)."""
    from .quality import CHECKS as QUALITY_CHECKS

    return {c.column: c.level for c in QUALITY_CHECKS}


def failing_statuses(fail_on: FailOn | None) -> tuple[str, ...]:
    if fail_on is None:
        return ()
    return ERROR_STATUSES + (WARNING_STATUSES if fail_on is FailOn.warning else ())


def console_for_tables(stderr: bool = False) -> Console:
    """A console whose tables never cut a value: piped output (no terminal) gets room for every column."""
    console = Console(stderr=stderr)
    return console if console.is_terminal else Console(stderr=stderr, width=10_000)


def explain_no_values(path: Path, read: Reader, kpi: str | None, breakdown: str | None, date_from: object,
                      date_to: object, source: str | None) -> str:
    """Why `kpi values` found no rows, and the command that would: a wrong breakdown, dates, or source."""
    looked = f"KPI `{kpi}`" if kpi else "any KPI"
    if breakdown:
        rows, _ = read(path, "SELECT DISTINCT breakdown FROM kpi_values WHERE breakdown <> '' "
                       "AND ($kpi IS NULL OR kpi_id = $kpi) ORDER BY 1", {"kpi": kpi})
        known = [str(r[0]) for r in rows]
        if breakdown not in known:
            close = [k for k in known if k.split(":", 1)[-1] == breakdown]
            hint = f" Did you mean `{close[0]}`?" if close else did_you_mean(breakdown, known)
            have = ", ".join(f"`{k}`" for k in known) if known else "none"
            return (f"No breakdown `{breakdown}` for {looked} in the warehouse.{hint} "
                    f"Breakdowns it holds: {have} (event params are written `param:NAME`).")
    rows, _ = read(path, "SELECT min(date)::VARCHAR, max(date)::VARCHAR, string_agg(DISTINCT source, ', ') "
                   "FROM kpi_values WHERE ($kpi IS NULL OR kpi_id = $kpi)", {"kpi": kpi})
    first, last, sources = rows[0] if rows else (None, None, None)
    if first is None:
        return f"No values for {looked} in the warehouse yet. Run `kpi refresh` after loading data."
    if source and source not in str(sources or "").split(", "):
        return f"No values from source `{source}` for {looked}; the warehouse holds values from: {sources}."
    span = f" between {date_from or 'the start'} and {date_to or 'the end'}" if (date_from or date_to) else ""
    return (f"No values for {looked}{span}" + (f" by `{breakdown}`" if breakdown else "")
            + f". The warehouse holds {first} to {last}: pass --from / --to within those days.")


def status_failures(rows: list[tuple[object, ...]], columns: list[str], fail_on: FailOn | None,
                    counts: dict[str, dict[str, int]] | None = None) -> list[str]:
    """One line per event `--fail-on` stops on: its status is that bad (the event, its status and the failed
    checks), or one of its `counts` (event → check column → count) is of a check at that level or above."""
    failing = failing_statuses(fail_on)
    levels = () if fail_on is None else ("error",) if fail_on is FailOn.error else ("error", "warning")
    labels, levels_of = check_labels(), check_levels()
    lines = []
    for row in rows:
        record = dict(zip(columns, row, strict=True))
        checks = record.get("failed_checks") or ""
        if record["status"] in failing:
            lines.append(f"{record['event']}: {record['status']}" + (f" ({checks})" if checks else ""))
            continue
        fired = [f"{labels[c]}: {n:,} ({levels_of[c]})" for c, n in (counts or {}).get(str(record["event"]), {}).items()
                 if n and levels_of.get(c) in levels]
        if fired:
            lines.append(f"{record['event']}: " + ", ".join(fired))
    return lines
