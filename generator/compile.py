"""Compile once: the KPI files → one `Compiled` value holding everything a later stage reads.

`compile_paths(paths)` loads and checks the files (`rules/validate.py`) and returns the catalog and the report; the
query plan, the Data API plan and the spec hash are computed from it on first use, once, so a command that needs
them (generate, explain, refresh, load ga4-api, values --grain, prune, demo) never compiles twice, and one that
does not (validate, diff) never pays for them. The plans exist only for files without errors: the commands stop
before (`cli_compile.compiled_or_exit` prints the report and exits).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from .issues import Report
from .parse.catalog import KpiCatalog
from .rules.validate import validate_paths

if TYPE_CHECKING:
    from .plan.api_plan import ApiPlan
    from .plan.queries import QueryPlan


@dataclass
class Compiled:
    """The KPI files compiled: `catalog` and `report` always; `plan`, `api_plan` and `spec_hash` when the report
    has no errors (computed on first use and kept)."""

    catalog: KpiCatalog
    report: Report

    @property
    def ok(self) -> bool:
        """No errors: the plans can be compiled."""
        return not self.report.errors

    @cached_property
    def plan(self) -> QueryPlan:
        """Every active KPI as a query (`plan/queries.py`), in dependency order."""
        from .plan.queries import compile_plan

        self._require_ok("query plan")
        return compile_plan(self.catalog)

    @cached_property
    def api_plan(self) -> ApiPlan:
        """The GA4 Data API requests that compute the KPIs it can (`plan/api_plan.py`)."""
        from .plan.api_plan import compile_api_plan

        return compile_api_plan(self.plan)

    @cached_property
    def spec_hash(self) -> str:
        """A hash of what the events catalog requires of each event (a new hash re-checks every day's data)."""
        self._require_ok("spec hash")
        return spec_hash(self.catalog)

    def _require_ok(self, what: str) -> None:
        if self.report.errors:
            raise ValueError(f"the KPI files have {len(self.report.errors)} error(s): no {what} (run `kpi validate`)")


def compile_paths(paths: Iterable[Path], relative_to: Path | None = None,
                  texts: Mapping[Path, bytes] | None = None) -> Compiled:
    """Load, check and compile the given files and folders; never raises on bad input (see `validate_paths`)."""
    validated = validate_paths(paths, relative_to, texts)
    return Compiled(validated.catalog, validated.report)


def spec_rows(catalog: KpiCatalog) -> list[dict[str, object]]:
    """Each event param the catalog specifies (GA4's built-ins merged), as the quality checks read them:
    event_name, param, required, type, enum, pattern, min, max (items are checked in the `items` column)."""
    rows: list[dict[str, object]] = []
    for name in sorted(catalog.events):
        for pname, p in sorted(catalog.events[name].spec.params.items()):
            if p.type == "items":
                continue
            rows.append({"event_name": name, "param": pname, "required": p.required, "type": p.type,
                         "enum": [str(v) for v in p.enum] if p.enum else None, "pattern": p.pattern,
                         "min": None if p.min is None else float(p.min),
                         "max": None if p.max is None else float(p.max)})
    return rows


def spec_hash(catalog: KpiCatalog) -> str:
    """16 hex digits of SHA-256 over the spec rows and the event names (the refresh log keeps it per refresh)."""
    events = [{"event_name": name} for name in sorted(catalog.events)]
    payload = json.dumps([spec_rows(catalog), events], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]
