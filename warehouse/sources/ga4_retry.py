"""Waiting out GA4's transient errors: exponential backoff with jitter and a cap, saying what it waits for.

Retried: RESOURCE_EXHAUSTED for the hourly and concurrency quotas, UNAVAILABLE, INTERNAL and
DEADLINE_EXCEEDED. Not retried: the daily token quota (it resets at midnight Pacific time, so waiting
minutes cannot help) and everything that needs a fix (bad request, no access, bad credentials).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from google.api_core import exceptions as gexc

from .ga4_defaults import DEFAULT_ATTEMPTS, DEFAULT_MAX_WAIT

T = TypeVar("T")

QUOTA_FIRST_WAIT = 30.0  # Google's guidance for 429s
SERVER_FIRST_WAIT = 1.0  # and for 500 / 503


@dataclass(frozen=True)
class Quota:
    """One of GA4's property quotas (the names of `PropertyQuota`)."""

    name: str
    label: str
    resets: str  # "daily" or "hourly"


QUOTAS = (
    Quota("concurrent_requests", "concurrent requests per property", "hourly"),
    Quota("server_errors_per_project_per_hour", "server errors per project per property per hour", "hourly"),
    Quota("potentially_thresholded_requests_per_hour", "potentially thresholded requests per hour", "hourly"),
    Quota("tokens_per_project_per_hour", "tokens per project per property per hour", "hourly"),
    Quota("tokens_per_day", "tokens per property per day", "daily"),
    Quota("tokens_per_hour", "tokens per property per hour", "hourly"),
)
_QUOTA_WORDS = (
    ("concurrent", "concurrent_requests"),
    ("server error", "server_errors_per_project_per_hour"),
    ("threshold", "potentially_thresholded_requests_per_hour"),
    ("per project per hour", "tokens_per_project_per_hour"),
    ("perprojectperhour", "tokens_per_project_per_hour"),
    ("per day", "tokens_per_day"), ("daily", "tokens_per_day"), ("perday", "tokens_per_day"),
    ("per hour", "tokens_per_hour"), ("hourly", "tokens_per_hour"), ("perhour", "tokens_per_hour"),
)
UNKNOWN_QUOTA = Quota("unknown", "a property quota", "hourly")


def exhausted_quota(exc: BaseException, remaining: dict[str, int] | None = None) -> Quota:
    """Which quota a RESOURCE_EXHAUSTED names (from GA4's message, else from the last quota seen)."""
    text = _message(exc).lower().replace("_", " ")
    by_name = {q.name: q for q in QUOTAS}
    for word, name in _QUOTA_WORDS:
        if word in text or word in text.replace(" ", ""):
            return by_name[name]
    for quota in QUOTAS:
        if remaining and remaining.get(quota.name) == 0:
            return quota
    return UNKNOWN_QUOTA


def is_quota_error(exc: BaseException) -> bool:
    return isinstance(exc, gexc.ResourceExhausted | gexc.TooManyRequests)


def is_credentials_failure(exc: BaseException) -> bool:
    """gRPC reports a failed token refresh as UNAVAILABLE "Getting metadata from plugin failed"."""
    return "metadata from plugin" in _message(exc)


def waiting_for(exc: BaseException, remaining: dict[str, int] | None = None) -> str | None:
    """What a retry would wait for, in words; None when waiting cannot help."""
    if is_quota_error(exc):
        quota = exhausted_quota(exc, remaining)
        if quota.resets == "daily":
            return None
        return f"GA4's quota of {quota.label} to free up (RESOURCE_EXHAUSTED)"
    if isinstance(exc, gexc.ServiceUnavailable):
        return None if is_credentials_failure(exc) else "GA4 to become available again (UNAVAILABLE)"
    if isinstance(exc, gexc.InternalServerError):
        return "GA4 to recover from an internal error (INTERNAL)"
    if isinstance(exc, gexc.DeadlineExceeded):
        return "GA4, which did not answer in time (DEADLINE_EXCEEDED)"
    return None


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = DEFAULT_ATTEMPTS  # tries in total, the first included
    max_wait: float = DEFAULT_MAX_WAIT  # cap on one wait, seconds

    def wait(self, exc: BaseException, attempt: int, rng: random.Random) -> float:
        """Seconds before try `attempt + 1`: doubling from a first wait, capped, half of it jittered."""
        first = QUOTA_FIRST_WAIT if is_quota_error(exc) else SERVER_FIRST_WAIT
        ceiling = min(self.max_wait, first * 2 ** (attempt - 1))
        return ceiling / 2 + rng.random() * ceiling / 2


class RetriesExhausted(Exception):
    """Still failing after the last try; `last` is GA4's error."""

    def __init__(self, last: Exception, attempts: int) -> None:
        super().__init__(str(last))
        self.last = last
        self.attempts = attempts


def call_with_retry(
    call: Callable[[], T],
    what: str,
    policy: RetryPolicy,
    say: Callable[[str], None],
    *,
    remaining: Callable[[], dict[str, int]] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> T:
    """`call()`, retried while GA4's error is transient; a non-transient error is raised as it is."""
    rng = rng or random.Random()
    for attempt in range(1, policy.attempts + 1):
        try:
            return call()
        except gexc.GoogleAPICallError as exc:
            reason = waiting_for(exc, remaining() if remaining else None)
            if reason is None:
                raise
            if attempt == policy.attempts:
                raise RetriesExhausted(exc, attempt) from None
            delay = policy.wait(exc, attempt, rng)
            say(f"Waiting {delay:.1f} s for {reason}, then trying {what} again (try {attempt + 1} of {policy.attempts}).")
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def _message(exc: BaseException) -> str:
    return str(getattr(exc, "message", None) or exc)
