"""A breakdown's bars: the top values, the rest folded into "Other" (never a single value), values that
must not be shown (personal data, outside the catalog's allowed list) grouped as "invalid values (n)",
each bar with its value and its volume, and a breakdown that is all "(not set)" flagged."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .formatting import format_value
from .measures import aggregate

NOT_SET = "(not set)"
COLUMNS = ["breakdown_value", "value", "size", "share", "kind", "label"]


@dataclass(frozen=True)
class Bars:
    frame: pd.DataFrame  # COLUMNS, in display order
    invalid_values: int  # distinct values grouped as invalid
    all_not_set: bool  # every row is "(not set)": the breakdown tells nothing


def breakdown_bars(rows: pd.DataFrame, aggregation: str, fmt: str | None, currency: str | None,
                   n: int = 5) -> Bars:
    """The bars of one breakdown over a period (rows: per day and value, with an `invalid` column)."""
    if rows.empty:
        return Bars(pd.DataFrame(columns=COLUMNS), 0, False)
    invalid = rows["invalid"].fillna(False).astype(bool) if "invalid" in rows else pd.Series(False, index=rows.index)
    groups = []
    for name, group in rows[~invalid].groupby("breakdown_value", sort=False):
        groups.append((str(name), group))
    ranked = sorted(((name, g, _size(g, aggregation)) for name, g in groups), key=lambda t: (-t[2], t[0]))
    # "Other" only folds two or more values: one value is shown by its own name.
    top, rest = (ranked, []) if len(ranked) <= n + 1 else (ranked[:n], ranked[n:])
    out = [(name, aggregate(g, aggregation), size, "value") for name, g, size in top]
    if rest:
        merged = pd.concat([g for _, g, _ in rest])
        out.append((f"Other ({len(rest)} values)", aggregate(merged, aggregation), _size(merged, aggregation),
                    "other"))
    bad = rows[invalid]
    distinct_bad = int(bad["breakdown_value"].nunique())
    if distinct_bad:
        out.append((f"invalid values ({distinct_bad})", aggregate(bad, aggregation), _size(bad, aggregation),
                    "invalid"))
    total = sum(size for *_, size, _ in [(o[0], o[1], o[2], o[3]) for o in out]) or 1.0
    frame = pd.DataFrame(
        [(name, value, size, size / total, kind, _label(value, size, size / total, aggregation, fmt, currency))
         for name, value, size, kind in out],
        columns=COLUMNS,
    )
    all_not_set = bool(not distinct_bad and len(groups) == 1 and groups[0][0] == NOT_SET)
    return Bars(frame, distinct_bad, all_not_set)


def _size(rows: pd.DataFrame, aggregation: str) -> float:
    """The volume behind a value: the denominator of a rate, the value of a sum, the days of a mean."""
    if aggregation == "ratio":
        return float(rows["denominator"].sum())
    if aggregation == "sum":
        return float(rows["value"].sum())
    return float(len(rows))


def _label(value, size, share, aggregation, fmt, currency) -> str:
    shown = format_value(value, fmt, currency)
    if aggregation == "ratio":
        return f"{shown} of {size:,.0f}"
    if aggregation == "sum":
        return f"{shown} ({share:.0%})"
    return shown
