"""Alerts as text (the terminal), JSON (machines), Markdown (issues, chat), and the message bodies."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date

from .evaluate import KpiAlert

ICONS = {"critical": "🔴", "warning": "🟠"}


def headline(alerts: Sequence[KpiAlert]) -> str:
    kpis = sum(1 for a in alerts if a.kpi_id is not None)
    parts = [f"{kpis} KPI{'s' if kpis != 1 else ''} need{'s' if kpis == 1 else ''} attention"] if kpis else []
    if any(a.kpi_id is None for a in alerts):
        parts.append("the data is late")
    return "KPI alerts: " + (" and ".join(parts) if parts else "nothing to report")


def facts(alert: KpiAlert) -> list[str]:
    """The numbers behind an alert, one per line: value, target, comparison, owner, link."""
    if alert.kpi_id is None:
        return []
    lines = [f"Value: {alert.value_text} ({alert.window.start:%-d %b}–{alert.window.end:%-d %b %Y}, {alert.status})",
             f"Target: {alert.target_text or 'none set'}"]
    comparison = f"{alert.previous_text or 'no data'} ({alert.comparison.start:%-d %b}–{alert.comparison.end:%-d %b})"
    if alert.change_text:
        comparison += f", change {alert.change_text}"
    lines.append(f"Comparison: {comparison}")
    lines.append(f"Owner: {alert.owner or 'nobody named'}")
    if alert.link:
        lines.append(f"Dashboard: {alert.link}")
    return lines


def to_text(alerts: Sequence[KpiAlert]) -> str:
    out = [headline(alerts)]
    for alert in alerts:
        name = alert.title if alert.kpi_id is None else f"{alert.title} ({alert.kpi_id})"
        out.append(f"\n{ICONS[alert.severity]} {alert.severity.upper()}  {name}")
        out += [f"   why: {r.text}" + _since(r.since) for r in alert.reasons]
        out += [f"   {line}" for line in facts(alert)]
    return "\n".join(out) + "\n"


def to_markdown(alerts: Sequence[KpiAlert]) -> str:
    out = [f"## {_md(headline(alerts))}"]
    for alert in alerts:
        name = _md(alert.title) + (f" (`{alert.kpi_id}`)" if alert.kpi_id else "")
        if alert.link:
            name = f"[{_md(alert.title)}]({alert.link}) (`{alert.kpi_id}`)"
        out.append(f"\n### {ICONS[alert.severity]} {alert.severity}: {name}\n")
        out += [f"- **Why:** {_md(r.text)}{_since(r.since)}" for r in alert.reasons]
        out += [f"- {_md(line.split(': ', 1)[0])}: {_md(line.split(': ', 1)[1])}" for line in facts(alert)
                if not line.startswith("Dashboard:")]
    return "\n".join(out) + "\n"


def to_json(alerts: Sequence[KpiAlert], as_of: date, window_end: date, sent: bool) -> str:
    return json.dumps({
        "as_of": as_of.isoformat(), "final_data_to": window_end.isoformat(), "count": len(alerts),
        "alerts": [a.as_dict() for a in alerts], "delivered": sent,
    }, indent=2, ensure_ascii=False) + "\n"


def to_slack(alerts: Sequence[KpiAlert]) -> dict[str, object]:
    """A Slack-compatible incoming-webhook payload: `text` for every client, `blocks` for Slack's layout."""
    blocks: list[dict[str, object]] = [{"type": "header", "text": {"type": "plain_text", "text": headline(alerts)}}]
    lines = []
    for alert in alerts[:40]:  # Slack allows 50 blocks a message
        title = _slack(alert.title)
        if alert.link:
            title = f"<{alert.link}|{title}>"
        body = [f"{ICONS[alert.severity]} *{title}* ({alert.severity})"]
        body += [f"• why: {_slack(r.text)}{_since(r.since)}" for r in alert.reasons]
        body += [_slack(line) for line in facts(alert) if not line.startswith("Dashboard:")]
        text = "\n".join(body)
        lines.append(text)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:2900]}})
    return {"text": headline(alerts) + "\n\n" + "\n\n".join(lines), "blocks": blocks}


def _since(day: date | None) -> str:
    return f" (since {day:%-d %b})" if day else ""


def _md(text: str) -> str:
    for char in "\\[]*_<>|":
        text = text.replace(char, "\\" + char)
    return text


def _slack(text: str) -> str:
    # Slack's own escaping: &, <, > are control characters in mrkdwn.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
