"""What a KPI measures: exactly one kind per `measure:` block."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from ._base import Strict
from .filters import Condition

WINDOW_PATTERN = r"^[1-9][0-9]*\s*(m|h|d)$"


class EventRef(Strict):
    """An event, optionally narrowed by conditions: `{event: sign_up, where: [...]}`."""

    event: str
    """The event name, from the events catalog or GA4's built-in events."""
    where: list[Condition] = Field(default_factory=list)
    """Conditions on the event's params or on dimensions; all must hold."""
    first_ever: bool = False
    """`true`: only each user's first such event ever (the first that meets `where:`, in all the data, not the first of each day): a first sign-up, a first purchase."""


def _event_shorthand(value: Any) -> Any:
    """`sessions_with: purchase` is short for `sessions_with: {event: purchase}`."""
    return {"event": value} if isinstance(value, str) else value


class Population(Strict):
    """Users or sessions overall (`sessions: {}`), optionally narrowed by dimension conditions."""

    where: list[Condition] = Field(default_factory=list)
    """Conditions on dimensions only (e.g. `{dimension: country, equals: Germany}`)."""


class ParamRef(Strict):
    """A numeric event param to add up or average: `{event: purchase, param: value}`."""

    event: str
    """The event that carries the number, e.g. `purchase`."""
    param: str
    """The numeric param to add up or average, e.g. `value`."""
    where: list[Condition] = Field(default_factory=list)
    """Conditions on the event's params or on dimensions; all must hold."""


class SimpleMeasure(Strict):
    """A measure that is a single number per day: a count, a distinct count, a sum or an average."""

    count: EventRef | None = None
    """Number of times an event happened."""
    users_with: EventRef | None = None
    """Distinct users who had the event."""
    sessions_with: EventRef | None = None
    """Distinct sessions with the event."""
    users: Population | None = None
    """Active users (GA4 `totalUsers`)."""
    sessions: Population | None = None
    """Sessions (GA4 `sessions`)."""
    new_users: Population | None = None
    """Users on their first visit (GA4 `newUsers`)."""
    engaged_sessions: Population | None = None
    """Sessions that lasted 10 s or more, had a key event, or 2+ page views (GA4 `engagedSessions`)."""
    sum: ParamRef | None = None
    """Total of a numeric param, e.g. revenue = sum of `value` of `purchase`."""
    average: ParamRef | None = None
    """Average of a numeric param per event, e.g. average order value."""

    _shorthand = field_validator("count", "users_with", "sessions_with", mode="before")(_event_shorthand)

    @field_validator("users", "sessions", "new_users", "engaged_sessions", mode="before")
    @classmethod
    def _empty_population(cls, value: Any) -> Any:
        return {} if value is None else value

    @model_validator(mode="after")
    def _exactly_one(self) -> SimpleMeasure:
        kinds = self.kinds()
        if len(kinds) != 1:
            names = ", ".join(type(self).kind_names())
            if not kinds:
                raise ValueError(f"the measure is empty; give exactly one of: {names}")
            raise ValueError(f"the measure has {len(kinds)} kinds ({', '.join(kinds)}); give exactly one")
        return self

    @classmethod
    def kind_names(cls) -> list[str]:
        return list(cls.model_fields)

    def kinds(self) -> list[str]:
        # Reads the field values straight from __dict__: every rule asks for each measure's kind.
        values = self.__dict__
        return [name for name in type(self).model_fields if values[name] is not None]

    @property
    def kind(self) -> str:
        values = self.__dict__
        return next(name for name in type(self).model_fields if values[name] is not None)

    @property
    def spec(self) -> Any:
        return self.__dict__[self.kind]


class Ratio(Strict):
    """One measure divided by another, e.g. sessions with a purchase / sessions."""

    numerator: SimpleMeasure
    """What is counted on top, e.g. `{sessions_with: purchase}`."""
    denominator: SimpleMeasure
    """What it is divided by, e.g. `{sessions: {}}`."""


class Conversion(Strict):
    """Share of users (or sessions) with event `from` who then had event `to` within a window."""

    from_: EventRef = Field(alias="from")
    """The first event, e.g. `add_to_cart`."""
    to: EventRef
    """The event that counts as converted, e.g. `purchase`."""
    within: str = Field(pattern=WINDOW_PATTERN)
    """How long after `from` the `to` event may happen: `30m`, `24h`, `1d`, `7d`."""
    per: Literal["user", "session"] = "user"
    """Whether `to` must follow `from` for the same user, or within the same session."""

    _shorthand = field_validator("from_", "to", mode="before")(_event_shorthand)

    @property
    def window_seconds(self) -> int:
        amount = int(self.within[:-1].strip())
        return amount * {"m": 60, "h": 3600, "d": 86400}[self.within[-1]]


class Formula(Strict):
    """A KPI computed from other KPIs: `formula: revenue / new_users`."""

    formula: str = Field(min_length=1)
    """Other KPIs' ids with `+ - * /`, numbers and parentheses, e.g. `revenue / new_users`."""


class Measure(SimpleMeasure):
    """Exactly one of the simple kinds, or `ratio`, `conversion` or `derived`."""

    ratio: Ratio | None = None
    """One simple measure divided by another, e.g. sessions with a purchase / sessions."""
    conversion: Conversion | None = None
    """Share of users (or sessions) with one event who then have another within a time window."""
    derived: Formula | None = None
    """A formula over other KPIs, e.g. `{formula: revenue / new_users}`."""
