"""The overview's cards as plain values: one per active KPI, status first, capped, grouped."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd
from warehouse.periods import Period, provisional_days

from .comparisons import Comparison, against_period, against_target
from .estimates import BADGE, describe_caveats, estimate_text
from .formatting import format_value, format_values
from .health import DataHealth, EventHealth, assess
from .measures import Goal, period_goal
from .period_rows import PeriodRows, period_rows
from .status import Status, evaluate_status
from .text import md_text

MAX_CARDS = 12
ACTIVE = "active"


@dataclass(frozen=True)
class Card:
    """Everything one KPI card shows, computed; rendering only lays it out."""

    kpi_id: str
    title: str
    objective: str
    team: str
    fmt: str
    currency: str | None
    direction: str
    value: float | None
    value_text: str
    goal: Goal
    target_text: str | None
    status: Status
    delta_text: str | None
    comparison_label: str | None  # "prior month to date"
    comparison_text: str | None  # "prior month to date (1–28 Sep 2026): 2.7%"
    sparkline: tuple[float, ...]
    days_with_data: int
    period: Period
    health: DataHealth
    provisional_days: int
    # GA4's caveats on the Data API days behind the value (empty: no estimate), and what they mean.
    caveats: tuple[str, ...] = ()
    estimate_text: str | None = None
    comparison_caveats: tuple[str, ...] = ()
    # Up to three comparisons (the chosen period first, the other period, the target), and which one the
    # card's delta shows: the chosen period's, or the target's when that period has no data.
    comparisons: tuple[Comparison, ...] = ()
    delta_basis: Comparison | None = None
    # For a KPI counting distinct users or sessions without a stored value for this range: where to get it.
    exact_note: str | None = None

    @property
    def estimate(self) -> bool:
        """The value shown uses Data API values GA4 flagged (sampled, thresholded, `(other)` row)."""
        return bool(self.caveats)

    @property
    def label(self) -> str:
        """Status icon in colour, the data-health light when the KPI's events are in trouble, the
        "≈ estimate" badge when GA4 flagged values behind the number, title."""
        parts = [self.status.badge, self.health.badge, BADGE if self.estimate else None, _escape(self.title)]
        return " ".join(part for part in parts if part)

    @property
    def partial_data(self) -> bool:
        return 0 < self.days_with_data < self.period.days

    def description(self) -> str:
        """The muted line beside the delta: the target (the comparison is in the page caption)."""
        parts = [f"target {self.target_text}" if self.target_text else "no target"]
        if self.exact_note:
            parts.append("range not precomputed")
        if self.partial_data:
            parts.append(f"{self.days_with_data} of {self.period.days} days")
        chosen = self.comparisons[0] if self.comparisons and self.comparisons[0].kind != "target" else None
        if chosen is not None and chosen.missing:
            parts.append(f"no data for {chosen.label}" + (": change vs target" if self.delta_text else ""))
        elif chosen is not None and chosen.period is not None and chosen.partial:
            parts.append(f"⚠ {chosen.label}: {chosen.days_with_data} of {chosen.period.days} days")
        return " · ".join(parts)

    @property
    def delta_good(self) -> bool | None:
        return self.delta_basis.good if self.delta_basis is not None else None

    def help_text(self) -> str:
        """The tooltip: the status in words and every number behind the card."""
        lines = [f"**{self.status.words.capitalize()}**: {self.value_text}" + _against(self)]
        when = f"{self.period.describe()} ({self.period.label.lower()}"
        when += ", partial period)" if self.period.partial else ")"
        lines.append(f"Period: {when}.")
        if self.exact_note:
            lines.append(self.exact_note)
        if self.estimate_text:
            lines.append(self.estimate_text)
        for comparison in self.comparisons:
            lines.append(comparison.text().replace("vs ", "Compared with ", 1) + ".")
        if self.comparison_caveats:
            lines.append(
                "The comparison period's value is an estimate: it uses GA4 Data API values that GA4 "
                f"flagged: {describe_caveats(self.comparison_caveats)}."
            )
        if self.partial_data:
            lines.append(f"Data on {self.days_with_data} of the period's {self.period.days} days.")
        if self.provisional_days:
            lines.append(
                f"The last {self.provisional_days} day(s) are provisional: GA4 may still update them."
            )
        lines.append(f"Data health: {self.health.explain()}.")
        return "  \n".join(lines)


def active_definitions(definitions: pd.DataFrame) -> pd.DataFrame:
    """KPIs whose status is `active` (or unset): drafts and deprecated KPIs get no card."""
    status = definitions["status"].fillna(ACTIVE).astype(str).str.lower()
    return definitions[status == ACTIVE]


def filter_definitions(definitions: pd.DataFrame, team: str | None, objective: str | None) -> pd.DataFrame:
    keep = pd.Series(True, index=definitions.index)
    if team:
        keep &= definitions["team"] == team
    if objective:
        keep &= definitions["objective"] == objective
    return definitions[keep]


def event_healths(frame: pd.DataFrame) -> dict[str, EventHealth]:
    """EventHealth per event name from `data.event_health`'s frame."""
    return {
        row.event_name: EventHealth(
            row.event_name,
            int(row.events or 0),
            int(row.invalid_events or 0),
            row.last_seen if isinstance(row.last_seen, date) else None,
        )
        for row in frame.itertuples(index=False)
    }


def build_cards(
    definitions: pd.DataFrame,
    targets: pd.DataFrame,
    totals: pd.DataFrame,
    events: Mapping[str, EventHealth],
    period: Period,
    comparison: Period | None,
    data_end: date,
    alternatives: Sequence[Period] = (),
    exact: pd.DataFrame | None = None,
) -> list[Card]:
    """One card per KPI in `definitions`, from the daily totals covering the period and its comparisons.

    `comparison` is the period the reader chose (its change is the card's delta); `alternatives` are the
    other comparison periods shown beside it (e.g. the same period last year). A KPI counting distinct users
    or sessions (`distinct_units`) takes its value over a period from `exact` (`data.period_totals`), never
    from a sum of its days; a range with no stored value shows no value and says how to get it.
    """
    exact_values = exact_lookup(exact)
    reduced = period_rows(totals, [period, *([comparison] if comparison else []), *alternatives])
    current, before = reduced[0], reduced[1] if comparison else {}
    by_other = reduced[2:] if comparison else reduced[1:]
    targets_by_kpi: dict[str, list[tuple[date, float]]] = {}
    for kpi_id, valid_from, target in zip(targets["kpi_id"], targets["valid_from"], targets["value"], strict=True):
        targets_by_kpi.setdefault(kpi_id, []).append((valid_from, target))
    others = list(zip(alternatives, by_other, strict=True))
    empty = PeriodRows()
    return [
        _card(
            kpi,
            current.get(kpi.kpi_id, empty),
            before.get(kpi.kpi_id, empty) if comparison else None,
            targets_by_kpi.get(kpi.kpi_id, []),
            events,
            period,
            comparison,
            data_end,
            [(other, rows.get(kpi.kpi_id, empty)) for other, rows in others],
            exact_values,
        )
        for kpi in definitions.itertuples(index=False)
    ]


def _comparisons(kpi, value, before, comparison, others, target,
                 exact=None) -> tuple[tuple[Comparison, ...], Comparison | None]:
    """The card's comparisons (chosen period, other periods, target) and the one its delta shows."""
    found: list[Comparison] = []
    if comparison is not None:
        found.append(against_period(value, before, comparison, "previous", kpi, exact))
    for other, rows in others:
        found.append(against_period(value, rows, other, "year", kpi, exact))
    versus_target = against_target(value, target, kpi)
    if versus_target is not None:
        found.append(versus_target)
    basis = None
    if comparison is not None and found[0].delta_text is not None:
        basis = found[0]
    elif comparison is not None and versus_target is not None and versus_target.delta_text is not None:
        basis = versus_target  # never a silently vanishing delta: the target still tells a direction
    return tuple(found[:3]), basis


def _card(kpi, current: PeriodRows, before: PeriodRows | None, targets, events, period, comparison, data_end,
          others=(), exact_values=None) -> Card:
    exact_values = exact_values or {}
    flag = getattr(kpi, "distinct_units", None)  # absent in serving files written before it
    distinct = flag is not None and not pd.isna(flag) and bool(flag)
    if distinct:
        value = exact_values.get((kpi.kpi_id, period.start, period.end))
    else:
        value = current.sums.value(kpi.aggregation)
    exact_note = None
    if distinct and (kpi.kpi_id, period.start, period.end) not in exact_values and current.sums.rows:
        api_only = current.sources == {"ga4_api"}
        exact_note = API_ONLY_NOTE if api_only else missing_exact_note(kpi.kpi_id, period)
    goal = period_goal(
        targets,
        period,
        kpi.aggregation,
        getattr(kpi, "target_per", None) or kpi.time_grain,  # a `per:` target is an amount per that period
        _num(kpi.warn_threshold),
        _num(kpi.critical_threshold),
    )
    status = evaluate_status(value, goal.target, kpi.direction, goal.warn, goal.critical)
    comparison_text = None
    if comparison is not None:
        previous = (
            exact_values.get((kpi.kpi_id, comparison.start, comparison.end))
            if distinct
            else before.sums.value(kpi.aggregation) if before is not None else None
        )
        shown = format_value(previous, kpi.format, kpi.currency) if previous is not None else "no data"
        comparison_text = f"{comparison.label} ({comparison.describe()}): {shown}"
    comparisons, basis = _comparisons(kpi, value, before, comparison, others, goal.target,
                                      exact_values if distinct else None)
    delta_text = basis.delta_text if basis is not None else None
    return Card(
        kpi_id=kpi.kpi_id,
        title=kpi.title or kpi.kpi_id,
        objective=kpi.objective or "No objective",
        team=kpi.team or "No team",
        fmt=kpi.format,
        currency=kpi.currency,
        direction=kpi.direction,
        value=value,
        value_text=format_value(value, kpi.format, kpi.currency),
        goal=goal,
        target_text=format_value(goal.target, kpi.format, kpi.currency) if goal.target is not None else None,
        status=status,
        delta_text=delta_text,
        comparison_label=comparison.label if comparison else None,
        comparison_text=comparison_text,
        sparkline=current.values,
        days_with_data=current.days,
        period=period,
        health=assess(kpi.events, events, data_end),
        provisional_days=provisional_days(period, data_end),
        caveats=current.caveats,
        estimate_text=estimate_text(current.caveats, list(current.flagged_days)),
        comparison_caveats=before.caveats if before is not None else (),
        comparisons=comparisons,
        delta_basis=basis,
        exact_note=exact_note,
    )


def exact_lookup(exact: pd.DataFrame | None) -> dict[tuple[str, date, date], float | None]:
    """(kpi_id, first day, last day) → the KPI's exact value over those days (None: no denominator)."""
    if exact is None or exact.empty:
        return {}
    out: dict[tuple[str, date, date], float | None] = {}
    for row in exact.itertuples(index=False):
        value = None if row.value is None or pd.isna(row.value) else float(row.value)
        out[(row.kpi_id, row.period_start, row.period_end)] = value
    return out


API_ONLY_NOTE = (
    "This KPI counts distinct users or sessions, so its value over a range is not the sum of its days; its "
    "days come from the GA4 Data API only, and the exact value over a range needs the BigQuery export "
    "(`kpi load ga4-export`)."
)


def missing_exact_note(kpi_id: str, period: Period) -> str:
    """What a card of a distinct-count KPI says for a range `kpi refresh` did not precompute."""
    return (
        "This KPI counts distinct users or sessions, so its value over a range is not the sum of its days, "
        "and this range was not precomputed. The exact value: "
        f"`kpi values --kpi {kpi_id} --grain period --from {period.start:%Y-%m-%d} --to {period.end:%Y-%m-%d}`."
    )


def order_cards(cards: Iterable[Card]) -> list[Card]:
    """Most urgent first: critical, warning, off target, no data, on track, no target; then by title."""
    return sorted(cards, key=lambda card: (card.status.value, card.title.lower()))


def cap_cards(cards: list[Card], limit: int = MAX_CARDS) -> tuple[list[Card], int]:
    """The first `limit` cards of an ordered list, and how many were left off."""
    return cards[:limit], max(0, len(cards) - limit)


def group_cards(cards: list[Card], by: str) -> list[tuple[str, list[Card]]]:
    """Cards grouped by objective or team, keeping the order: the group with the most urgent card first."""
    groups: dict[str, list[Card]] = {}
    for card in cards:
        groups.setdefault(card.team if by == "team" else card.objective, []).append(card)
    return list(groups.items())


def _against(card: Card) -> str:
    if card.goal.target is None:
        return "; no target set."
    limits = []
    word = "below" if card.direction == "up" else "above"
    named = [(n, t) for n, t in (("warning", card.goal.warn), ("critical", card.goal.critical)) if t is not None]
    texts = format_values([card.goal.target] + [t for _, t in named], card.fmt, card.currency)
    text = f" against a target of {texts[0]}"
    for (name, _), shown in zip(named, texts[1:], strict=True):
        limits.append(f"{name} {word} {shown}")
    return text + (f" ({', '.join(limits)})." if limits else ".")


def _num(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _escape(text: str) -> str:
    # Labels are Markdown: the title is shown as text (dashboards/text.py).
    return md_text(text)
