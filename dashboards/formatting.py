"""Numbers as a reader expects them: percent, currency, plain number, duration; and their changes."""

from __future__ import annotations

import math
from collections.abc import Sequence

CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "INR": "₹"}
FORMATS = ("number", "percent", "currency", "duration")


def format_value(value: float | None, fmt: str | None, currency: str | None = None) -> str:
    """One value in the KPI's format: 0.031 → "3.1%", 12345 EUR → "€12,345", 83 s → "1m 23s"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if fmt == "percent":
        return f"{value * 100:.1f}%"
    if fmt == "currency":
        return _currency(value, currency)
    if fmt == "duration":
        return format_duration(value)
    return format_number(value)


def format_values(values: Sequence[float | None], fmt: str | None, currency: str | None = None) -> list[str]:
    """Related amounts (a target and its thresholds) with one precision, so they read alike: "€1,000, €800"
    or "€1,000.50, €800.00", never "€1,000 … €800.00"."""
    numbers = [v for v in values if v is not None and not _nan(float(v))]
    if fmt not in ("currency", "number") or not numbers or max(abs(v) for v in numbers) >= 1_000_000:
        return [format_value(v, fmt, currency) for v in values]
    decimals = 0 if all(float(v).is_integer() for v in numbers) else 2
    out = []
    for value in values:
        if value is None or _nan(float(value)):
            out.append("—")
            continue
        amount = f"{abs(value):,.{decimals}f}"
        sign = "-" if value < 0 else ""
        if fmt == "number":
            out.append(f"{sign}{amount}")
            continue
        code = (currency or "").upper()
        symbol = CURRENCY_SYMBOLS.get(code)
        out.append(f"{sign}{symbol}{amount}" if symbol else f"{sign}{code} {amount}".strip())
    return out


def format_number(value: float) -> str:
    """12345 → "12,345"; 1234567 → "1.23M"; 3.14159 → "3.14"; 12.5 → "12.5"."""
    magnitude = abs(value)
    if magnitude >= 1_000_000_000:
        return f"{value / 1_000_000_000:.2f}B"
    if magnitude >= 1_000_000:
        return f"{value / 1_000_000:.2f}M"
    if magnitude >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _currency(value: float, code: str | None) -> str:
    amount = format_number(value) if abs(value) >= 1000 else f"{abs(value):,.2f}"
    amount = amount.lstrip("-")
    sign = "-" if value < 0 else ""
    code = (code or "").upper()
    symbol = CURRENCY_SYMBOLS.get(code)
    if symbol:
        return f"{sign}{symbol}{amount}"
    return f"{sign}{code} {amount}".strip() if code else f"{sign}{amount}"


def format_duration(seconds: float) -> str:
    """83 → "1m 23s"; 42.5 → "42.5s"; 3725 → "1h 02m"."""
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds < 60:
        text = f"{seconds:.1f}".rstrip("0").rstrip(".")
        return f"{sign}{text}s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    return f"{sign}{minutes}m {secs:02d}s"


def format_delta(current: float | None, previous: float | None, fmt: str | None) -> str | None:
    """The change against the comparison period: points for percentages, a relative change otherwise.

    0.031 vs 0.027 (percent) → "+0.4 pp"; 120 vs 100 → "+20.0%"; None when either side is missing
    or the previous value is zero (a relative change from zero means nothing).
    """
    if current is None or previous is None or _nan(current) or _nan(previous):
        return None
    if fmt == "percent":
        points = (current - previous) * 100
        return f"{points:+.2f} pp" if abs(points) < 0.1 else f"{points:+.1f} pp"
    if previous == 0:
        return None
    change = (current - previous) / abs(previous) * 100
    return f"{change:+.1f}%"


def _nan(value: float) -> bool:
    return isinstance(value, float) and math.isnan(value)


def axis_format(fmt: str | None) -> str:
    """A d3 format string for chart axes in the KPI's format."""
    return {"percent": ".1%", "currency": ",.0f", "duration": ",.0f"}.get(fmt or "", ",.4~g")
