"""Spec-stamped events: every event the site sends carries `kb_spec`, the short hash of its spec version.

The version is a hash of what IT implements for the event: each param's name, type, whether it is
required or in the snippet, its allowed values, pattern, bounds and personal-data flag. Descriptions,
triggers and examples do not change it (they change no code). So once events arrive, the warehouse can
say which version of the spec each page implements, which one is live, and since when.

The stamp is declared like any param (in the JSON Schemas, the tracking plan and the snippets) and counts
in GA4's 25-params-per-event budget (rule KB421). It is optional for checks: pages built before the stamp
existed send none, which `kpi status` shows as "not stamped".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import ParamEntry

STAMP_PARAM = "kb_spec"
STAMP_PATTERN = "^[0-9a-f]{8}$"
STAMP_DESCRIPTION = ("KPI Bridge spec version of this event: send exactly this value, so the warehouse can tell "
                     "which version of the spec a page implements.")


def spec_version(event: str, params: Iterable[ParamEntry]) -> str:
    """8 hex digits of SHA-256 over the event's implementable spec (the stamp itself excluded)."""
    shape = [[p.name, p.type, p.required, p.in_snippet, list(p.enum) if p.enum else None, p.pattern, p.min,
              p.max, p.pii] for p in sorted(params, key=lambda p: p.name) if p.name != STAMP_PARAM]
    text = json.dumps([event, shape], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def stamp_param(version: str) -> ParamEntry:
    """The `kb_spec` param of an event whose spec version is `version` (its placeholder is the real value)."""
    from .model import ParamEntry

    return ParamEntry(name=STAMP_PARAM, type="string", required=False, description=STAMP_DESCRIPTION, enum=None,
                      pattern=STAMP_PATTERN, min=None, max=None, example=version, placeholder=version, pii="",
                      max_length=None, needs=(), in_snippet=True)
