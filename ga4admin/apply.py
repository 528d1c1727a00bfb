"""Carry out a plan: create, then archive (custom definitions) or delete (key events), one call each.

A failure stops the run with one sentence; what was done before it stays done, and the next `kpi apply`
reads the property again, so it only does what is still missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from google.api_core import exceptions as gexc

from .client import AdminConnection, create_body
from .errors import AdminError, explain
from .plan import ARCHIVE, CREATE, AdminPlan, Step


@dataclass
class Applied:
    done: list[Step] = field(default_factory=list)


def apply_plan(conn: AdminConnection, plan: AdminPlan, timeout: float,
               say: Callable[[str], None] = lambda _text: None) -> Applied:
    applied = Applied()
    for step in plan.changes:
        what = f"{'creating' if step.action == CREATE else 'archiving'} the {step.definition.label}"
        try:
            _run(conn, plan.property, step, timeout)
        except gexc.GoogleAPICallError as exc:
            done = f" {len(applied.done)} of {len(plan.changes)} changes were made before it." if applied.done else ""
            raise AdminError(explain(exc, conn.account, plan.property, what, conn.endpoint) + done) from None
        applied.done.append(step)
        say(f"{'Created' if step.action == CREATE else 'Archived'} the {step.definition.label}.")
    return applied


def _run(conn: AdminConnection, prop: str, step: Step, timeout: float) -> None:
    c, d = conn.client, step.definition
    if step.action == CREATE:
        body = create_body(d)
        if d.kind == "custom_dimension":
            c.create_custom_dimension(parent=prop, custom_dimension=body, timeout=timeout)
        elif d.kind == "custom_metric":
            c.create_custom_metric(parent=prop, custom_metric=body, timeout=timeout)
        else:
            c.create_key_event(parent=prop, key_event=body, timeout=timeout)
    elif step.action == ARCHIVE:
        if d.kind == "custom_dimension":
            c.archive_custom_dimension(name=d.resource, timeout=timeout)
        elif d.kind == "custom_metric":
            c.archive_custom_metric(name=d.resource, timeout=timeout)
        else:
            c.delete_key_event(name=d.resource, timeout=timeout)
