"""Alert settings: built-in defaults < `[alerts]` in kpibridge.toml < `[alerts.<format>]` < the KPI's file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..health import INVALID_RATE_LIMIT

# An absolute change worth a message, by the KPI's format: 50 of a count, half a percentage point of a
# share, 100 of a currency, 10 seconds of a duration. `[alerts.<format>] absolute_change` overrides them.
ABSOLUTE_BY_FORMAT = {"number": 50.0, "percent": 0.005, "currency": 100.0, "duration": 10.0}
FORMATS = tuple(ABSOLUTE_BY_FORMAT)


class SettingsError(ValueError):
    """kpibridge.toml's [alerts] table holds something unusable; the message says what and how to fix it."""


@dataclass(frozen=True)
class Thresholds:
    """When one KPI's change or event errors are worth a message."""

    relative_change: float
    absolute_change: float
    max_violation_rate: float
    enabled: bool = True


@dataclass(frozen=True)
class AlertSettings:
    window_days: int = 7
    relative_change: float = 0.2
    absolute_change: Mapping[str, float] = field(default_factory=lambda: dict(ABSOLUTE_BY_FORMAT))
    max_violation_rate: float = INVALID_RATE_LIMIT
    late_after_days: int = 2
    dashboard_url: str = "http://localhost:8501"
    state: Path | None = None
    webhook: str | None = None
    email_to: tuple[str, ...] = ()
    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_from: str = "kpi-alerts@localhost"
    smtp_starttls: bool = True

    def for_kpi(self, fmt: str | None, own: Mapping[str, object]) -> Thresholds:
        """The thresholds of one KPI: its own `alerts:` values (from the serving copy) over the project's."""

        def pick(name: str, default: float) -> float:
            value = own.get(name)
            return default if value is None else float(value)  # type: ignore[arg-type]

        absolute = self.absolute_change.get(fmt or "number", self.absolute_change.get("number", 0.0))
        enabled = own.get("alerts_enabled")
        return Thresholds(
            pick("alert_relative_change", self.relative_change),
            pick("alert_absolute_change", absolute),
            pick("alert_max_violation_rate", self.max_violation_rate),
            enabled is not False,
        )


def from_config(section: Mapping[str, object], base: AlertSettings | None = None) -> AlertSettings:
    """AlertSettings from kpibridge.toml's `[alerts]` table; unknown keys are an error with a suggestion."""
    from difflib import get_close_matches

    base = base or AlertSettings()
    known = {"window_days", "relative_change", "absolute_change", "max_violation_rate", "late_after_days",
             "dashboard_url", "state", "webhook", "email", *FORMATS}
    values: dict[str, object] = {}
    absolute = dict(base.absolute_change)
    for key, value in section.items():
        if key not in known:
            close = get_close_matches(key, sorted(known), n=1)
            hint = f" Did you mean `{close[0]}`?" if close else ""
            raise SettingsError(f"kpibridge.toml: `[alerts] {key}` is not a setting.{hint} "
                                f"Settings: {', '.join(sorted(known))}.")
        if key in FORMATS:
            if not isinstance(value, Mapping) or set(value) - {"absolute_change"}:
                raise SettingsError(f"kpibridge.toml: `[alerts.{key}]` takes only `absolute_change = <number>`.")
        elif key == "absolute_change":
            absolute = dict.fromkeys(FORMATS, _number("[alerts] absolute_change", value))
        elif key == "email":
            values.update(_email(value, base))
        elif key in ("window_days", "late_after_days"):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise SettingsError(f"kpibridge.toml: `[alerts] {key}` must be a whole number of days, at least 1.")
            values[key] = value
        elif key in ("relative_change", "max_violation_rate"):
            share = _number(f"[alerts] {key}", value)
            if not 0 <= share <= 1:
                raise SettingsError(f"kpibridge.toml: `[alerts] {key} = {value}` is a share between 0 and 1 "
                                    f"(20 % is 0.2). Did you mean {share / 100:g}?")
            values[key] = share
        elif key == "state":
            values[key] = Path(str(value))
        else:
            values[key] = str(value)
    for fmt in FORMATS:  # `[alerts.percent] absolute_change` wins over `[alerts] absolute_change`
        table = section.get(fmt)
        if isinstance(table, Mapping) and "absolute_change" in table:
            absolute[fmt] = _number(f"[alerts.{fmt}] absolute_change", table["absolute_change"])
    return replace(base, absolute_change=absolute, **values)  # type: ignore[arg-type]


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise SettingsError(f"kpibridge.toml: `{name}` must be a number, at least 0 (it is {value!r}).")
    return float(value)


def _email(value: object, base: AlertSettings) -> dict[str, object]:
    if not isinstance(value, Mapping):
        raise SettingsError("kpibridge.toml: `[alerts.email]` is a table: to, from, host, port, starttls.")
    allowed = {"to", "from", "host", "port", "starttls"}
    extra = set(value) - allowed
    if extra:
        raise SettingsError(f"kpibridge.toml: `[alerts.email] {sorted(extra)[0]}` is not a setting; "
                            f"use {', '.join(sorted(allowed))}.")
    to = value.get("to", list(base.email_to))
    return {
        "email_to": (to,) if isinstance(to, str) else tuple(str(a) for a in to),
        "smtp_from": str(value.get("from", base.smtp_from)),
        "smtp_host": str(value.get("host", base.smtp_host)),
        "smtp_port": int(value.get("port", base.smtp_port)),
        "smtp_starttls": bool(value.get("starttls", base.smtp_starttls)),
    }
