"""Semantic diff of two catalog snapshots: what changed in events, params, custom definitions and KPIs,
each change classed as breaking for IT or not, with the KPIs (and owners) it affects.

Breaking for IT means the site's current tracking stops matching the spec: an event or param removed
(the site still sends it), renamed (a removal plus an addition with a similar name), a type changed,
a param made required (or added as required), an enum value removed, an enum, pattern or tighter bound
introduced, or a param newly declared as personal data. Everything else (additions, looser rules, new
descriptions and triggers, KPI and custom-definition changes) is listed as non-breaking.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Any

from .diff_live import Waiting, waiting_changes, waiting_markdown
from .escaping import md_code, md_text

RENAME_CUTOFF = 0.6


@dataclass(frozen=True)
class Change:
    """One change. `template` has a `{}` for each name in `args`, so each output can quote names its way."""

    kind: str
    category: str  # event | param | custom_definition | kpi
    subject: str
    breaking: bool
    template: str
    args: tuple[str, ...]
    kpis: tuple[tuple[str, str], ...] = ()  # (KPI id, owner)

    @property
    def message(self) -> str:
        """Plain text, names in backticks."""
        return fill(self.template, self.args, lambda a: f"`{a}`")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "category": self.category, "subject": self.subject, "breaking": self.breaking,
                "message": self.message, "template": self.template, "args": list(self.args),
                "kpis": [{"id": k, "owner": o} for k, o in self.kpis]}


def fill(template: str, args: tuple[str, ...] | list[str], quote: Any, text: Any = str) -> str:
    """Interleave the template's own text (through `text`) with quoted args (through `quote`)."""
    pieces = template.split("{}")
    out = [text(pieces[0])]
    for i, piece in enumerate(pieces[1:]):
        out.append(quote(args[i]) if i < len(args) else "")
        out.append(text(piece))
    return "".join(out)


@dataclass
class CatalogDiff:
    changes: list[Change] = field(default_factory=list)
    waiting: list[Waiting] = field(default_factory=list)  # events whose new spec version KPIs wait for

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if c.breaking]

    @property
    def other(self) -> list[Change]:
        return [c for c in self.changes if not c.breaking]

    def affected_kpis(self) -> list[tuple[str, str]]:
        return sorted({k for c in self.changes for k in c.kpis})


class _Differ:
    def __init__(self, old: dict[str, Any], new: dict[str, Any]):
        self.old, self.new = old, new
        self.changes: list[Change] = []
        self.owners = {k: v.get("owner", "") for k, v in old.get("kpis", {}).items()}
        self.owners.update({k: v.get("owner", "") for k, v in new.get("kpis", {}).items()})

    def kpis(self, *ids: list[str]) -> tuple[tuple[str, str], ...]:
        return tuple(sorted({(k, self.owners.get(k, "")) for group in ids for k in group}))

    def add(self, kind: str, category: str, subject: str, breaking: bool, template: str, *args: str,
            kpis: tuple[tuple[str, str], ...] = ()) -> None:
        self.changes.append(Change(kind, category, subject, breaking, template, tuple(args), kpis))

    def run(self) -> CatalogDiff:
        self.events()
        self.custom_definitions()
        self.kpi_definitions()
        order = {"event": 0, "param": 1, "custom_definition": 2, "kpi": 3}
        self.changes.sort(key=lambda c: (not c.breaking, order[c.category], c.subject, c.kind))
        return CatalogDiff(self.changes)

    # events and params

    def events(self) -> None:
        old, new = self.old.get("events", {}), self.new.get("events", {})
        removed, added, renames = _pair_renames(sorted(set(old) - set(new)), sorted(set(new) - set(old)))
        for a, b in renames:
            self.add("event_renamed", "event", a, True, "event {} renamed to {}? (removed, and a similar name added)",
                     a, b, kpis=self.kpis(old[a]["kpis"], new[b]["kpis"]))
        for name in removed:
            self.add("event_removed", "event", name, True, "event {} removed: the site still sends it",
                     name, kpis=self.kpis(old[name]["kpis"]))
        for name in added:
            auto = " (collected by GA4 itself)" if new[name].get("automatic") else ""
            self.add("event_added", "event", name, False, "event {} added" + auto, name,
                     kpis=self.kpis(new[name]["kpis"]))
        for name in sorted(set(old) & set(new)):
            self.event_changed(name, old[name], new[name])

    def event_changed(self, name: str, o: dict[str, Any], n: dict[str, Any]) -> None:
        kpis = self.kpis(o["kpis"], n["kpis"])
        if o["trigger"] != n["trigger"]:
            self.add("trigger_changed", "event", name, False, "event {}: trigger changed (check where it fires)",
                     name, kpis=kpis)
        if o["description"] != n["description"]:
            self.add("event_description_changed", "event", name, False, "event {}: description changed", name,
                     kpis=kpis)
        if o["key_event"] != n["key_event"]:
            what = "now a key event (mark it in GA4 Admin)" if n["key_event"] else "no longer a key event"
            self.add("key_event_changed", "event", name, False, "event {}: " + what, name, kpis=kpis)
        if sorted(o["kpis"]) != sorted(n["kpis"]):
            gone = sorted(set(o["kpis"]) - set(n["kpis"]))
            came = sorted(set(n["kpis"]) - set(o["kpis"]))
            parts = ([f"now needed by {', '.join(came)}"] if came else []) + \
                    ([f"no longer needed by {', '.join(gone)}"] if gone else [])
            self.add("event_needs_changed", "event", name, False, "event {}: " + "; ".join(parts), name,
                     kpis=self.kpis(gone, came))
        op, np_ = o["params"], n["params"]
        removed, added, renames = _pair_renames(sorted(set(op) - set(np_)), sorted(set(np_) - set(op)))
        for a, b in renames:
            self.add("param_renamed", "param", f"{name}.{a}", True,
                     "param {} renamed to {}? (removed, and a similar name added)", f"{name}.{a}", f"{name}.{b}",
                     kpis=self.param_kpis(o, n, a, b))
        for p in removed:
            self.add("param_removed", "param", f"{name}.{p}", True, "param {} removed: the site still sends it",
                     f"{name}.{p}", kpis=self.param_kpis(o, n, p))
        for p in added:
            req = np_[p]["required"]
            self.add("param_added", "param", f"{name}.{p}", req,
                     "param {} added as required: the site does not send it yet" if req else "param {} added",
                     f"{name}.{p}", kpis=self.param_kpis(o, n, p))
        for p in sorted(set(op) & set(np_)):
            self.param_changed(f"{name}.{p}", op[p], np_[p], self.param_kpis(o, n, p))

    def param_kpis(self, o: dict[str, Any], n: dict[str, Any], *names: str) -> tuple[tuple[str, str], ...]:
        """The KPIs that read the param; when none does, every KPI of the event."""
        direct = [k for p in names for ev in (o, n) for k in ev["params"].get(p, {}).get("kpis", [])]
        return self.kpis(direct) if direct else self.kpis(o["kpis"], n["kpis"])

    def param_changed(self, subject: str, o: dict[str, Any], n: dict[str, Any],
                      kpis: tuple[tuple[str, str], ...]) -> None:
        def add(kind: str, breaking: bool, template: str, *args: str) -> None:
            self.add(kind, "param", subject, breaking, template, subject, *args, kpis=kpis)

        if o["type"] != n["type"]:
            add("param_type_changed", True, "param {}: type changed from {} to {}", o["type"], n["type"])
        if o["required"] != n["required"]:
            if n["required"]:
                add("param_made_required", True, "param {} is now required")
            else:
                add("param_made_optional", False, "param {} is now optional")
        self.enum_changed(add, o.get("enum"), n.get("enum"))
        if o.get("pattern") != n.get("pattern"):
            if n.get("pattern") is None:
                add("pattern_removed", False, "param {}: pattern {} removed", str(o["pattern"]))
            elif o.get("pattern") is None:
                add("pattern_added", True, "param {}: must now match {}", str(n["pattern"]))
            else:
                add("pattern_changed", True, "param {}: pattern changed from {} to {}", str(o["pattern"]),
                    str(n["pattern"]))
        for bound, tighter in (("min", lambda a, b: a > b), ("max", lambda a, b: a < b)):
            ob, nb = o.get(bound), n.get(bound)
            if ob == nb:
                continue
            breaking = nb is not None and (ob is None or tighter(nb, ob))
            add("bounds_changed", breaking, "param {}: " + bound + " changed from {} to {}", _num(ob), _num(nb))
        if (o.get("pii") or "") != (n.get("pii") or ""):
            if n.get("pii"):
                add("pii_changed", True, "param {} is now declared personal data ({}): stop sending it",
                    str(n["pii"]))
            else:
                add("pii_changed", False, "param {} is no longer declared personal data")
        if o.get("description") != n.get("description"):
            add("param_description_changed", False, "param {}: description changed")

    @staticmethod
    def enum_changed(add: Any, old: list[Any] | None, new: list[Any] | None) -> None:
        if old == new:
            return
        if new is None:
            add("enum_removed", False, "param {}: any value is allowed now")
            return
        if old is None:
            add("enum_added", True, "param {}: now restricted to {}", ", ".join(map(str, new)))
            return
        gone = [v for v in old if v not in new]
        came = [v for v in new if v not in old]
        if gone:
            add("enum_values_removed", True, "param {}: value(s) {} no longer allowed", ", ".join(map(str, gone)))
        if came:
            add("enum_values_added", False, "param {}: value(s) {} added", ", ".join(map(str, came)))

    # custom definitions and KPIs

    def custom_definitions(self) -> None:
        old, new = self.old.get("custom_definitions", {}), self.new.get("custom_definitions", {})
        for key in sorted(set(new) - set(old)):
            d = new[key]
            self.add("custom_definition_added", "custom_definition", key, False,
                     f"custom {d['kind']} {{}} to register in GA4 Admin", d["parameter"], kpis=self.kpis(d["kpis"]))
        for key in sorted(set(old) - set(new)):
            d = old[key]
            self.add("custom_definition_removed", "custom_definition", key, False,
                     f"custom {d['kind']} {{}} no longer needed (archive it in GA4 Admin to free quota)",
                     d["parameter"], kpis=self.kpis(d["kpis"]))

    def kpi_definitions(self) -> None:
        old, new = self.old.get("kpis", {}), self.new.get("kpis", {})
        for k in sorted(set(new) - set(old)):
            self.add("kpi_added", "kpi", k, False, "KPI {} added (" + _status(new[k]) + ")", k, kpis=self.kpis([k]))
        for k in sorted(set(old) - set(new)):
            self.add("kpi_removed", "kpi", k, False, "KPI {} removed", k, kpis=self.kpis([k]))
        for k in sorted(set(old) & set(new)):
            fields = [f for f in sorted(set(old[k]) | set(new[k])) if f != "file" and old[k].get(f) != new[k].get(f)]
            if fields:
                self.add("kpi_changed", "kpi", k, False, "KPI {} changed: " + ", ".join(fields), k,
                         kpis=self.kpis([k]))


def _status(kpi: dict[str, Any]) -> str:
    return str(kpi.get("status", "active"))


def _num(value: Any) -> str:
    return "none" if value is None else f"{value:g}"


def _pair_renames(removed: list[str], added: list[str]) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """Pair each removed name with the most similar added one (best pairs first)."""
    scored = sorted(((difflib.SequenceMatcher(None, a, b).ratio(), a, b) for a in removed for b in added),
                    key=lambda t: (-t[0], t[1], t[2]))
    pairs: list[tuple[str, str]] = []
    used_a: set[str] = set()
    used_b: set[str] = set()
    for score, a, b in scored:
        if score >= RENAME_CUTOFF and a not in used_a and b not in used_b:
            pairs.append((a, b))
            used_a.add(a)
            used_b.add(b)
    return [a for a in removed if a not in used_a], [b for b in added if b not in used_b], sorted(pairs)


def diff_snapshots(old: dict[str, Any], new: dict[str, Any]) -> CatalogDiff:
    """Every change from `old` to `new` (two `spec/catalog.json` snapshots)."""
    diff = _Differ(old, new).run()
    diff.waiting = waiting_changes(old, new)
    return diff


# ---------------------------------------------------------------------------------------------- output


def to_json(diff: CatalogDiff, old_label: str, new_label: str) -> str:
    return json.dumps({
        "old": old_label, "new": new_label,
        "breaking": len(diff.breaking), "non_breaking": len(diff.other),
        "affected_kpis": [{"id": k, "owner": o} for k, o in diff.affected_kpis()],
        "changes": [c.to_dict() for c in diff.changes],
        "waiting_to_go_live": [w.to_dict() for w in diff.waiting],
    }, indent=2, ensure_ascii=False)


def _md_kpis(change: Change) -> str:
    return ", ".join(f"{md_code(k)} ({md_text(o)})" for k, o in change.kpis) or "—"


def to_markdown(diff: CatalogDiff, old_label: str, new_label: str) -> str:
    """A pull-request comment: breaking changes first, each with the KPIs and owners it affects."""
    def row(c: Change) -> str:
        return f"| {fill(c.template, c.args, md_code, md_text)} | {_md_kpis(c)} |"

    title = f"### KPI Bridge: tracking-plan diff {md_code(old_label, table=False)} → {md_code(new_label, table=False)}"
    if not diff.changes:
        return f"{title}\n\nNo changes to KPIs, events, params or custom definitions.\n"
    nb, no = len(diff.breaking), len(diff.other)
    owners = sorted({o for _k, o in diff.affected_kpis() if o})
    lines = [title, ""]
    lines.append((f"⚠️ **{nb} breaking change{'s' if nb != 1 else ''} for IT**" if nb else
                  "✅ **No breaking changes for IT**") + f", {no} other change{'s' if no != 1 else ''}.")
    if owners:
        lines.append(f"KPI owners to loop in: {', '.join(md_text(o) for o in owners)}.")
    for heading, changes in (("Breaking for IT", diff.breaking), ("Other changes", diff.other)):
        if not changes:
            continue
        lines += ["", f"#### {heading}", "", "| Change | Affected KPIs (owner) |", "|---|---|"]
        lines += [row(c) for c in changes]
    lines += waiting_markdown(diff.waiting)
    lines += ["", "<details><summary>What counts as breaking</summary>", "",
              "An event or param removed or renamed, a type changed, a param made required, an enum value "
              "removed, an enum, pattern or tighter bound introduced, or a param newly declared as personal "
              "data: the site's current tracking no longer matches the spec.", "", "</details>"]
    return "\n".join(lines) + "\n"
