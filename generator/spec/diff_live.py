"""Which KPIs wait for which change to go live: events whose spec version (`kb_spec`) differs between two
snapshots, with the KPIs that read them. Until the site sends the new version, those KPIs measure the old
implementation; `kpi status` shows when the new version is live."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .escaping import md_code, md_text


@dataclass(frozen=True)
class Waiting:
    event: str
    old_version: str  # "" when the event is new
    new_version: str
    kpis: tuple[tuple[str, str], ...]  # (KPI id, owner)

    def to_dict(self) -> dict[str, Any]:
        return {"event": self.event, "old_version": self.old_version or None, "new_version": self.new_version,
                "kpis": [{"id": k, "owner": o} for k, o in self.kpis]}


def waiting_changes(old: dict[str, Any], new: dict[str, Any]) -> list[Waiting]:
    """Events (sent by the site, needed by a KPI) whose spec version is new or changed."""
    owners = {k: v.get("owner", "") for k, v in new.get("kpis", {}).items()}
    out = []
    old_events = old.get("events", {})
    for name, event in sorted(new.get("events", {}).items()):
        version = event.get("spec_version") or ""
        before = (old_events.get(name) or {}).get("spec_version") or ""
        if not version or not event.get("kpis") or version == before:
            continue
        if name in old_events and not before:
            continue  # the old snapshot predates spec versions: nothing to compare
        out.append(Waiting(name, before, version, tuple(sorted((k, owners.get(k, "")) for k in event["kpis"]))))
    return out


def waiting_markdown(waiting: list[Waiting]) -> list[str]:
    if not waiting:
        return []
    lines = ["", "#### Waiting to go live", "",
             "These KPIs measure the new spec only once the site sends it: `kpi status` shows per event which "
             "spec version (`kb_spec`) arrives, and since when.", "",
             "| Event | Spec version | KPIs waiting (owner) |", "|---|---|---|"]
    for w in waiting:
        version = (f"{md_code(w.old_version)} → {md_code(w.new_version)}" if w.old_version
                   else f"new: {md_code(w.new_version)}")
        kpis = ", ".join(f"{md_code(k)} ({md_text(o)})" for k, o in w.kpis)
        lines.append(f"| {md_code(w.event)} | {version} | {kpis} |")
    return lines
