"""What every target renders from: the catalog, the spec model and (for query targets) the plan."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from ..parse.catalog import KpiCatalog
from ..plan.api_plan import ApiPlan, compile_api_plan
from ..plan.queries import QueryPlan, compile_plan
from ..spec.diff import diff_snapshots
from ..spec.model import SpecModel, build_spec
from ..spec.snapshot import snapshot_of
from ..sql.export_shape import NEWEST, ExportShape


@dataclass(frozen=True)
class PreviousBuild:
    """What the last build in the output folder knew (its `spec/catalog.json`), if there was one."""

    snapshot: dict[str, Any]
    changes: list[dict[str, Any]] | None  # what that build reported as changed before it, carried forward


@dataclass
class RenderContext:
    """The one argument of every target's `render(ctx)`; expensive views are computed once, on first use."""

    catalog: KpiCatalog
    previous: PreviousBuild | None = None
    plan: QueryPlan | None = None  # the compiled plan, if the caller has it; else `query_plan()` compiles it
    export: ExportShape = NEWEST  # the GA4 export shape the SQL is written for (`kpi generate --export-era`)
    api: ApiPlan | None = None  # the plan's Data API requests, if the caller has them; else `api_plan()` compiles

    def query_plan(self) -> QueryPlan:
        """The plan the query targets read: the one given, else compiled on first use and kept for the others."""
        if self.plan is None:
            self.plan = compile_plan(self.catalog)
        return self.plan

    def api_plan(self) -> ApiPlan:
        """The GA4 Data API requests of the plan: the ones given, else compiled on first use and kept."""
        if self.api is None:
            self.api = compile_api_plan(self.query_plan())
        return self.api

    @functools.cached_property
    def spec(self) -> SpecModel:
        """The event-centric view of the catalog: events, params, KPIs and owners that need them."""
        return build_spec(self.catalog)

    @functools.cached_property
    def snapshot(self) -> dict[str, Any]:
        """This build's catalog snapshot, written to `spec/catalog.json` for the next build to compare."""
        return snapshot_of(self.catalog, self.spec)

    @functools.cached_property
    def changes_since_previous(self) -> list[dict[str, Any]] | None:
        """Changes since the previous build (None on a first build).

        When nothing changed since the previous build, its own list is carried forward, so that
        generating twice from the same files gives byte-identical output.
        """
        if self.previous is None:
            return None
        if self.previous.snapshot == self.snapshot:
            return self.previous.changes
        return [c.to_dict() for c in diff_snapshots(self.previous.snapshot, self.snapshot).changes]
