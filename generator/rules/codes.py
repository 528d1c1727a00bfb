"""Titles of the issue codes that come from the loader and the model parser rather than from a rule."""

from __future__ import annotations

LOADER_AND_MODEL_CODES: dict[str, str] = {
    "KB100": "the file or folder exists and can be read",
    "KB101": "a KPI file is at most 1 MB",
    "KB102": "a KPI file is UTF-8 text",
    "KB103": "a KPI file is not empty",
    "KB104": "indentation uses spaces, not tabs",
    "KB105": "the file is valid YAML",
    "KB106": "the file is not nested or expanded absurdly deep",
    "KB107": "the file is a block of `key: value` lines",
    "KB108": "no YAML tags (`!!python/...`)",
    "KB109": "no key appears twice in a block",
    "KB201": "only known keys",
    "KB202": "required keys are present",
    "KB203": "values have the right type and form",
    "KB204": "values are one of the allowed choices",
    "KB205": "values fit together (one measure kind, min ≤ max, …)",
    "KB206": "a file is a KPI or the events catalog",
    "KB303": "derived formulas name existing KPIs",
    "KB304": "each KPI id is used once",
    "KB309": "each event is declared once",
    "KB900": "internal error while checking (a bug in KPI Bridge)",
}
