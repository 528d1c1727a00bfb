"""The registry of outputs: each target is a module with `render(ctx: RenderContext) -> list[Artifact]`.

A new output is one new module listed in TARGETS. `generator.targets.build.build_artifacts` runs them all.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from . import event_schemas, ga4_admin, ga4_requests, gtm, snippets, sql, tracking_plan, typescript
from .artifact import Artifact
from .context import PreviousBuild, RenderContext

Render = Callable[[RenderContext], list[Artifact]]

TARGETS: tuple[ModuleType, ...] = (
    # the tracking spec (build/spec/)
    tracking_plan,
    event_schemas,
    snippets,
    typescript,
    gtm,
    ga4_admin,
    # the queries (build/queries/)
    ga4_requests,
    sql,
)

__all__ = ["TARGETS", "Artifact", "PreviousBuild", "RenderContext", "Render"]
