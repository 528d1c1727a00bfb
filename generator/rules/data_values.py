"""KPI files against the loaded data: values that never occur, breakdowns with nothing to show, KPIs that
compute nothing. Pure: the warehouse gathers the distinct values (`warehouse/value_findings.py`, one query per
`value_uses.Subject`, with the SQL the generator compiles for that dimension) and hands them in as sets.

Codes (warnings, like `kpi validate`'s KB7xx: the files are valid, the data disagrees):
KB631 a filter value never occurs, KB632 a breakdown shows only `(not set)`, KB633 a KPI computes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ..ga4.vocabularies import NOT_SET, spelling
from ..issues import Issue, Level, suggest_closest
from ..parse.catalog import KpiCatalog
from .value_uses import Subject, ValueUse, value_uses


@dataclass(frozen=True)
class ObservedValues:
    """The distinct values of a subject over the loaded days; `complete` False when the warehouse stopped
    reading at its limit (then a value missing from `values` may still occur, and nothing is reported)."""

    values: frozenset[str]
    complete: bool = True


@dataclass(frozen=True)
class KpiOutcome:
    """What a KPI computed over the loaded days: its total's rows, and how many are not 0."""

    rows: int
    nonzero: int


@dataclass(frozen=True)
class LoadedDays:
    first: dt.date
    last: dt.date
    count: int

    def describe(self) -> str:
        return f"the {self.count} loaded day{'s' if self.count != 1 else ''} ({self.first} … {self.last})"


@dataclass(frozen=True)
class DataCode:
    """A code of these checks, for the docs and SARIF (they need data, so they are not `kpi validate` rules)."""

    code: str
    title: str
    level: Level = Level.WARNING


DATA_CODES = (
    DataCode("KB631", "filter values occur in the loaded data (`kpi refresh`, `kpi validate --db`)"),
    DataCode("KB632", "breakdowns have values other than `(not set)` in the loaded data"),
    DataCode("KB633", "each KPI computes something over the loaded days"),
)


def check_against_data(catalog: KpiCatalog, observed: Mapping[Subject, ObservedValues],
                       outcomes: Mapping[str, KpiOutcome], days: LoadedDays | None) -> list[Issue]:
    """Every value, breakdown and KPI of the active KPIs that the loaded data does not bear out."""
    issues = list(_values(catalog, observed))
    if days is not None:
        with_values = {i.location.file for i in issues if i.code == "KB631"}
        issues += _empty_kpis(catalog, outcomes, days, with_values)
    return issues


def superseded(issues: list[Issue], found: list[Issue]) -> list[Issue]:
    """`issues` without the KB630 spelling warnings that a KB631 from the data says again, at the same place."""
    places = {i.location for i in found if i.code == "KB631"}
    return [i for i in issues if not (i.code == "KB630" and i.location in places)]


def _values(catalog: KpiCatalog, observed: Mapping[Subject, ObservedValues]) -> Iterator[Issue]:
    for use in value_uses(catalog):
        seen = observed.get(use.subject)
        if seen is None or not seen.complete or not seen.values:
            continue  # nothing loaded for it: KB633 tells the KPI computes nothing
        if use.value is None:
            if seen.values <= {NOT_SET}:
                yield _not_set_breakdown(use)
        elif not _occurs(use, seen.values):
            yield _never_occurs(use, seen.values)


def _occurs(use: ValueUse, values: frozenset[str]) -> bool:
    assert use.value is not None
    if use.operator == "contains":
        return any(use.value in v for v in values)
    if use.operator == "starts_with":
        return any(v.startswith(use.value) for v in values)
    return use.value in values


def suggestion(use: ValueUse, values: frozenset[str]) -> str | None:
    """A value that does occur and is most likely what was meant: GA4's spelling (`DE` → `Germany`), the
    same value in another case (`email` → `Email`), else the closest."""
    assert use.value is not None
    if use.subject.kind == "dimension":
        right = spelling(use.subject.name, use.value)
        if right in values:
            return right
    real = sorted(v for v in values if v != NOT_SET)
    if use.matches_part:
        lowered = use.value.lower()
        found = [v for v in real if lowered in v.lower()]
        if found:
            return found[0]
    return suggest_closest(use.value, real)


def _never_occurs(use: ValueUse, values: frozenset[str]) -> Issue:
    assert use.value is not None
    best = suggestion(use, values)
    mean = f" Did you mean `{best}`?" if best else ""
    what = {"contains": "no value contains", "starts_with": "no value starts with"}.get(use.operator, "no value is")
    effect = ("so the filter excludes nothing" if use.operator in ("not_equals", "not_in")
              else "so the filter matches nothing")
    shown = ", ".join(f"`{v}`" for v in sorted(values)[:8]) + (" …" if len(values) > 8 else "")
    return Issue("KB631", Level.WARNING,
                 f"`{use.value}` never occurs in the loaded data: {what} `{use.value}` for "
                 f"{use.subject.describe()} ({use.kpi_id}), {effect}.{mean}", use.location,
                 f"Write the value as the data spells it (seen: {shown}).")


def _not_set_breakdown(use: ValueUse) -> Issue:
    name = use.subject.name
    what = (f"no loaded `{use.subject.event}` event carries the param `{name}`" if use.subject.kind == "param"
            else f"no loaded event has a {name.replace('_', ' ')}")
    return Issue("KB632", Level.WARNING,
                 f"the breakdown by `{name}` shows only `(not set)`: {what} ({use.kpi_id}).", use.location,
                 "Ask IT to send it (`kpi status` shows what arrives), or remove the breakdown.")


def _empty_kpis(catalog: KpiCatalog, outcomes: Mapping[str, KpiOutcome], days: LoadedDays,
                with_values: set[str]) -> Iterator[Issue]:
    for sk in catalog.active_kpis():
        kid = sk.kpi.kpi
        outcome = outcomes.get(kid, KpiOutcome(0, 0))
        if outcome.nonzero:
            continue
        what = (f"computes nothing over {days.describe()}" if not outcome.rows
                else f"is 0 on every one of {days.describe()}")
        hint = ("A value it filters on never occurs in the data (reported for this file): fix that value."
                if sk.doc.path in with_values
                else "Check that its events arrive (`kpi status`) and that its filters match the data "
                     "(`kpi validate --db`).")
        yield Issue("KB633", Level.WARNING, f"the KPI `{kid}` {what}.",
                    sk.locate("measure"), hint)
