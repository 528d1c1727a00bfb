"""GA4's errors in plain words: which KPI and field, which account and property, which quota and when it resets."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from google.api_core import exceptions as gexc

from .ga4_client import ADC_HINT
from .ga4_retry import RetriesExhausted, exhausted_quota, is_credentials_failure, is_quota_error


class ApiLoadError(Exception):
    """A Data API load that cannot go on; the message says what is wrong and what to do."""


@dataclass(frozen=True)
class CallContext:
    """What a failing call was about, so its error can name KPIs, fields, the account and the property."""

    property: str
    account: str
    what: str  # "batch 2 of 3"
    timeout: float
    endpoint: str | None = None
    fields: dict[str, tuple[str, ...]] = field(default_factory=dict)  # request id → API names it uses
    kpis: dict[str, tuple[str, ...]] = field(default_factory=dict)  # request id → "revenue (by channel)"
    remaining: dict[str, int] = field(default_factory=dict)  # last known quota left, by quota name


def explain(exc: BaseException, ctx: CallContext) -> str:
    """One message for a GA4 error that stopped the load."""
    attempts = 1
    if isinstance(exc, RetriesExhausted):
        attempts, exc = exc.attempts, exc.last
    said = _ga4_said(exc)
    if isinstance(exc, gexc.InvalidArgument | gexc.BadRequest) and not is_quota_error(exc):
        return _invalid_argument(said, ctx)
    if isinstance(exc, gexc.PermissionDenied | gexc.Forbidden):
        if "not been used" in said or "disabled" in said.lower():
            return (f"The Google Analytics Data API is not enabled for the Google Cloud project of "
                    f"{ctx.account}: enable it in the Cloud console (APIs & Services) and run this again. {_quote(said)}")
        return (f"{_cap(ctx.account)} has no access to {ctx.property}: add it as a Viewer in GA4 Admin, Property "
                f"access management (or check the property id). {_quote(said)}")
    if isinstance(exc, gexc.Unauthenticated) or is_credentials_failure(exc):
        return f"Google did not accept the credentials of {ctx.account}: {ADC_HINT}."
    if is_quota_error(exc):
        quota = exhausted_quota(exc, ctx.remaining)
        if quota.resets == "daily":
            return (f"GA4's quota of {quota.label} for {ctx.property} is used up; it resets at midnight Pacific "
                    f"time ({_until_pacific_midnight()}). Load a shorter date range then. {_quote(said)}")
        return (f"GA4's quota of {quota.label} for {ctx.property} was still used up after {attempts} tries; it "
                f"frees up within the hour: run this again later. {_quote(said)}")
    if isinstance(exc, gexc.DeadlineExceeded):
        return (f"GA4 did not answer {ctx.what} within {ctx.timeout:g} s ({_tries(attempts)}): load a shorter date "
                "range or allow more time with --timeout.")
    if isinstance(exc, gexc.ServiceUnavailable | gexc.InternalServerError):
        hint = _endpoint_hint(said, ctx)
        return f"GA4 stayed unavailable for {ctx.what} ({_tries(attempts)}){hint}. {_quote(said)}"
    if isinstance(exc, gexc.MethodNotImplemented):
        return f"The server at {ctx.endpoint or 'the endpoint'} does not implement the GA4 Data API. {_quote(said)}"
    code = getattr(exc, "grpc_status_code", None) or getattr(exc, "code", "")
    return f"GA4 refused {ctx.what} ({getattr(code, 'name', code)}). {_quote(said)}"


def _invalid_argument(said: str, ctx: CallContext) -> str:
    names = sorted({f for fields in ctx.fields.values() for f in fields}, key=len, reverse=True)
    named = next((n for n in names if re.search(rf"(?<![\w:]){re.escape(n)}(?![\w:])", said)), None)
    requests = [r for r, fields in ctx.fields.items() if named in fields] if named else list(ctx.fields)
    kpis = sorted({k for r in requests for k in ctx.kpis.get(r, ())})
    who = f"KPI{'s' if len(kpis) != 1 else ''} {', '.join(kpis)}" if kpis else ctx.what
    if named:
        fix = (f" If it is a custom param, register `{named.removeprefix('customEvent:')}` as an event-scoped "
               "custom dimension in GA4 Admin, Custom definitions." if named.startswith("customEvent:") else "")
        return f"GA4 rejected the field `{named}` used by {who}.{fix} {_quote(said)}"
    return f"GA4 rejected a request of {who}. {_quote(said)}"


def _endpoint_hint(said: str, ctx: CallContext) -> str:
    lowered = said.lower()
    if ctx.endpoint and ("ssl" in lowered or "wrong_version" in lowered or "handshake" in lowered):
        return f"; {ctx.endpoint} may speak plaintext gRPC: add --insecure"
    if ctx.endpoint and ("connect" in lowered or "refused" in lowered):
        return f"; nothing answers at {ctx.endpoint}"
    return ": try again later"


def _until_pacific_midnight(now: dt.datetime | None = None) -> str:
    try:
        pacific: dt.tzinfo = ZoneInfo("America/Los_Angeles")
    except ZoneInfoNotFoundError:
        pacific = dt.timezone(dt.timedelta(hours=-8))
    now = (now or dt.datetime.now(dt.UTC)).astimezone(pacific)
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), pacific)
    left = midnight - now
    hours, minutes = divmod(int(left.total_seconds()) // 60, 60)
    at_utc = midnight.astimezone(dt.UTC).strftime("%H:%M UTC")
    return f"in {hours} h {minutes} min, at {at_utc}"


def _ga4_said(exc: BaseException) -> str:
    return str(getattr(exc, "message", None) or exc).strip()


def _quote(said: str) -> str:
    if not said:
        return ""
    return f"GA4 said: {said if said.endswith('.') else said + '.'}"


def _tries(attempts: int) -> str:
    return "1 try" if attempts == 1 else f"{attempts} tries"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]
