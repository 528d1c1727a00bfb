"""The human side of the spec: `spec/index.html` (one self-contained page), `spec/tracking-plan.md`, and
`spec/catalog.json` (the snapshot the next build compares with, for "what changed since the last build").

Templates only format; what they show is decided in spec_model.py. HTML is autoescaped, Markdown goes
through md_text / md_code, both with StrictUndefined so a typo in a template fails loudly.
"""

from __future__ import annotations

import json
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from ..spec.diff import fill
from ..spec.escaping import md_code, md_fenced, md_text, one_line
from ..spec.model import EventEntry, ParamEntry
from .artifact import Artifact, json_artifact
from .context import RenderContext
from .snippets import datalayer_snippet, gtag_snippet


def _html_change(change: dict[str, Any]) -> Markup:
    """A change message with its names in <code>; every piece escaped."""
    return Markup(fill(str(change["template"]), [str(a) for a in change["args"]],
                       lambda a: f"<code>{escape(a)}</code>", lambda t: str(escape(t))))


def _md_change(change: dict[str, Any]) -> str:
    return fill(str(change["template"]), [str(a) for a in change["args"]], md_code, md_text)


def example_text(p: ParamEntry) -> str:
    """The example a params table shows: the declared one, else the snippet placeholder."""
    value = p.example if p.example is not None else p.placeholder
    if p.type == "items":
        return "[{ item_id, item_name, price, quantity }]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return f"{value:g}" if isinstance(value, float) else str(value)


def search_text(e: EventEntry) -> str:
    words = [e.name, e.trigger, *(p.name for p in e.params)]
    words += [f"{n.kpi.id} {n.kpi.title} {n.kpi.owner} {n.kpi.team}" for n in e.needs]
    return one_line(" ".join(words)).lower()


def _environment(autoescape: bool) -> Environment:
    env = Environment(loader=PackageLoader("generator", "templates"), autoescape=autoescape,
                      undefined=StrictUndefined, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(md_text=md_text, md_code=md_code, md_fenced=md_fenced, one_line=one_line, example_text=example_text,
                       search_text=search_text, html_change=_html_change, md_change=_md_change)
    return env


HTML = _environment(autoescape=True)
TEXT = _environment(autoescape=False)


def _view(ctx: RenderContext) -> dict[str, Any]:
    spec = ctx.spec
    snippets = {e.name: {"gtag": gtag_snippet(e), "datalayer": datalayer_snippet(e)}
                for e in spec.events if not e.automatic}
    return {"spec": spec, "changes": ctx.changes_since_previous, "first_build": ctx.changes_since_previous is None,
            "snippets": snippets, "objective_ids": {o.name: f"objective-{i + 1}" for i, o in enumerate(spec.objectives)}}


def render(ctx: RenderContext) -> list[Artifact]:
    view = _view(ctx)
    return [
        Artifact("spec/index.html", HTML.get_template("spec/index.html.j2").render(view)),
        Artifact("spec/tracking-plan.md", TEXT.get_template("spec/tracking-plan.md.j2").render(view)),
        json_artifact("spec/catalog.json", {"snapshot": ctx.snapshot,
                                            "changes_since_previous_build": ctx.changes_since_previous}),
    ]
