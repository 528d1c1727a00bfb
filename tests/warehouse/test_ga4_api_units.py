"""The small pure parts of the Data API loader: dates, quotas, backoff, relative differences."""

from __future__ import annotations

import datetime as dt
import math
import random

import pytest
from google.api_core import exceptions as gexc

from warehouse.reconcile import reconcile, relative_difference
from warehouse.sources.ga4_api import check_date, check_range, normalize_property, resolve_date
from warehouse.sources.ga4_errors import ApiLoadError
from warehouse.sources.ga4_retry import RetryPolicy, exhausted_quota, waiting_for

TODAY = dt.date(2024, 3, 10)


@pytest.mark.parametrize(("text", "day"), [("today", TODAY), ("yesterday", dt.date(2024, 3, 9)),
                                           ("28daysAgo", dt.date(2024, 2, 11)), ("2024-01-05", dt.date(2024, 1, 5))])
def test_ga4_dates_resolve_against_today(text, day):
    assert resolve_date(check_date(text, "--start"), TODAY) == day


@pytest.mark.parametrize("text", ["2024-13-01", "last week", "7daysago", "20240101"])
def test_dates_ga4_would_refuse_are_refused_first(text):
    with pytest.raises(ApiLoadError, match="--start"):
        check_date(text, "--start")


def test_a_start_after_the_end_is_refused():
    with pytest.raises(ApiLoadError, match="after --end"):
        check_range("2024-02-01", "2024-01-01")
    with pytest.raises(ApiLoadError):
        check_range("yesterday", "7daysAgo")
    check_range("2024-01-01", "yesterday")  # depends on today: left to GA4


def test_property_ids():
    assert normalize_property("123") == normalize_property("properties/123") == "properties/123"
    with pytest.raises(ApiLoadError, match="Property details"):
        normalize_property("G-ABC123")  # a measurement id, not a property id


@pytest.mark.parametrize(("message", "quota", "retried"), [
    ("Exhausted property tokens per day quota. Consumed 200010 tokens.", "tokens_per_day", False),
    ("Exhausted property tokens per hour quota.", "tokens_per_hour", True),
    ("Exhausted property tokens per project per hour.", "tokens_per_project_per_hour", True),
    ("Exhausted concurrent requests quota.", "concurrent_requests", True),
    ("tokensPerDay exhausted", "tokens_per_day", False),
])
def test_which_quota_and_whether_waiting_helps(message, quota, retried):
    exc = gexc.ResourceExhausted(message)
    assert exhausted_quota(exc).name == quota
    assert (waiting_for(exc) is not None) == retried


def test_an_unnamed_quota_is_known_from_the_last_quota_seen():
    assert exhausted_quota(gexc.ResourceExhausted("quota"), {"tokens_per_day": 0}).name == "tokens_per_day"


def test_backoff_doubles_is_jittered_and_capped():
    policy, rng = RetryPolicy(attempts=8, max_wait=10.0), random.Random(1)
    unavailable = gexc.ServiceUnavailable("down")
    waits = [policy.wait(unavailable, attempt, rng) for attempt in range(1, 8)]
    ceilings = [min(10.0, 2 ** (a - 1)) for a in range(1, 8)]
    assert all(c / 2 <= w <= c for w, c in zip(waits, ceilings, strict=True))
    assert len({round(w, 6) for w in waits}) == len(waits)  # jittered
    assert policy.wait(gexc.ResourceExhausted("hourly"), 1, rng) >= 5.0  # quota waits start longer


def test_relative_difference_is_against_the_export():
    assert relative_difference(100, 104) == pytest.approx(0.04)
    assert relative_difference(0, 0) == 0 and math.isinf(relative_difference(0, 1))
    result = reconcile([("sessions", TODAY, 100.0, 104.0), ("sessions", TODAY, 100.0, 110.0)], 0.05)
    assert [c.within for c in result.comparisons] == [True, False]
    assert result.line().startswith("✗ 1 of 2 KPI-days differ by more than 5.0%")
