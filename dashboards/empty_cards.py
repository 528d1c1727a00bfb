"""Why a card has no value: no data loaded for its period, or (from `kpi refresh`'s checks of the KPI files
against the data, `kpi_value_findings` in the serving copy) a filter value that never occurs, with what the
data spells instead. Plain values in, one sentence out; the card only shows it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

import pandas as pd
from warehouse.periods import Period

from .scorecard import Card

FILTER_NEVER_MATCHES = "KB631"
COMPUTES_NOTHING = "KB633"


def why_empty(card: Card, findings: pd.DataFrame, data_start: date | None, data_end: date | None) -> str | None:
    """Plain text (not Markdown) saying why the card shows no value (or 0 because of a filter); None when it
    has one, or when the card already says how to get it (a range of a distinct count not precomputed)."""
    mine = findings[findings["kpi_id"] == card.kpi_id] if len(findings) else findings
    values = mine[mine["code"] == FILTER_NEVER_MATCHES] if len(mine) else mine
    if card.value is not None and not (card.value == 0 and len(values)):
        return None
    if card.exact_note:
        return None
    if data_start is None or data_end is None:
        return "No data is loaded yet: load the GA4 export (`kpi load`), then `kpi refresh`."
    if card.period.end < data_start or card.period.start > data_end:
        return (f"No data loaded for {_span(card.period)}: the warehouse holds {data_start:%-d %b %Y} – "
                f"{data_end:%-d %b %Y}. Load those days (`kpi load`), then `kpi refresh`.")
    if len(values):
        first = values.iloc[0]
        more = f" ({len(values) - 1} more such value{'s' if len(values) > 2 else ''} in the file.)" \
            if len(values) > 1 else ""
        return f"Its filter matches nothing in the loaded data: {first['message']} ({_where(first)}){more}"
    empty = mine[mine["code"] == COMPUTES_NOTHING] if len(mine) else mine
    if len(empty):
        first = empty.iloc[0]
        return f"{_capital(first['message'])} {first['hint']} ({_where(first)})"
    if card.days_with_data == 0:
        return (f"No value on any day of {_span(card.period)}: none of its events matched on these days "
                "(`kpi status` shows which events arrive).")
    return None


def explanations(cards: Iterable[Card], findings: pd.DataFrame, data_start: date | None,
                 data_end: date | None) -> Mapping[str, str]:
    """KPI id → why its card is empty, for the cards that need it."""
    out = {card.kpi_id: why_empty(card, findings, data_start, data_end) for card in cards}
    return {kid: text for kid, text in out.items() if text}


def _span(period: Period) -> str:
    return f"{period.label.lower()} ({period.describe()})"


def _where(row) -> str:
    return f"{row['file']}:{int(row['line'])}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
