"""`kpi status`'s spec-version columns: per event, its spec version, the live one and since when, the shares."""

from __future__ import annotations

from pathlib import Path

import duckdb

from .event_versions import NOT_STAMPED, RECENT_DAYS, event_versions
from .reading import read_serving

COLUMNS = ["spec_version", "live_version", "live_since", "spec_state", "versions"]
TABLE_COLUMNS = ["event", "spec version", "live version", "live since", "state", f"last {RECENT_DAYS} days"]


def with_spec_versions(path: Path, rows: list[tuple[object, ...]], columns: list[str], structured: bool
                       ) -> tuple[list[tuple[object, ...]], list[str]]:
    """The status rows (first column: the event) with the spec-version columns added. `structured`: the
    versions as a list of dicts (JSON), else as text (`0f499d26 82%, not stamped 18%`)."""
    try:
        stamps, _ = read_serving(path, "SELECT event_name, date, spec_version, events FROM event_spec_versions")
        spec_rows, _ = read_serving(path, "SELECT event_name, spec_version FROM event_spec")
    except duckdb.CatalogException:  # a serving copy from before spec versions: refresh to get them
        return rows, columns
    found = event_versions(stamps, {str(e): str(v) for e, v in spec_rows})  # type: ignore[arg-type]
    out = []
    for row in rows:
        ev = found.get(str(row[0]))
        if ev is None:
            out.append((*row, None, None, None, None, [] if structured else ""))
            continue
        data = ev.as_dict()
        out.append((*row, data["spec_version"], data["live_version"], data["live_since"], data["spec_state"],
                    data["versions"] if structured else ev.text))
    return out, [*columns, *COLUMNS]


def versions_table(rows: list[tuple[object, ...]], columns: list[str]) -> list[tuple[object, ...]]:
    """The spec-version columns of `with_spec_versions`' rows as their own table (for the terminal)."""
    if "spec_version" not in columns:
        return []
    at = columns.index("spec_version")
    return [(r[0], *r[at:]) for r in rows if r[at] or r[at + 1] not in (None, NOT_STAMPED)]
