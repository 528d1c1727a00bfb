"""GA4's naming rules, limits and reserved names (../shared/reference/ga4.md §1, §2, §4.3)."""

from __future__ import annotations

import re

NAME_MAX = 40
PARAM_VALUE_MAX = 100
LONG_PARAM_VALUE_MAX = {"page_title": 300, "page_referrer": 420, "page_location": 1000}
PARAMS_PER_EVENT = 25
USER_PROPERTIES_MAX = 25
USER_PROPERTY_NAME_MAX = 24
USER_PROPERTY_VALUE_MAX = 36
ENUM_VALUE_MAX = 100

EVENT_SCOPED_DIMENSIONS_MAX = 50
USER_SCOPED_DIMENSIONS_MAX = 25
CUSTOM_METRICS_MAX = 50
DISPLAY_NAME_MAX = 82
DESCRIPTION_MAX = 150

API_DIMENSIONS_MAX = 9
API_METRICS_MAX = 10
API_DATE_RANGES_MAX = 4
API_REPORTS_PER_BATCH = 5
API_ROWS_PER_PAGE_MAX = 250_000

NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

RESERVED_EVENT_NAMES = frozenset({
    "ad_activeview", "ad_click", "ad_exposure", "ad_impression", "ad_query", "ad_reward", "adunit_exposure",
    "app_background", "app_clear_data", "app_exception", "app_install", "app_remove", "app_store_refund",
    "app_store_subscription_cancel", "app_store_subscription_convert", "app_store_subscription_renew",
    "app_update", "app_upgrade", "click", "dynamic_link_app_open", "dynamic_link_app_update",
    "dynamic_link_first_open", "error", "file_download", "firebase_campaign", "firebase_in_app_message_action",
    "firebase_in_app_message_dismiss", "firebase_in_app_message_impression", "first_open", "first_visit",
    "form_start", "form_submit", "in_app_purchase", "notification_dismiss", "notification_foreground",
    "notification_open", "notification_receive", "os_update", "page_view", "scroll", "session_start",
    "session_start_with_rollout", "user_engagement", "video_complete", "video_progress", "video_start",
    "view_search_results",
})
RESERVED_EVENT_PREFIXES = ("firebase_", "google_", "ga_")
RESERVED_PARAM_PREFIXES = ("_", "firebase_", "ga_", "google_", "gtag.")
# Not registrable as custom definitions (they may still be sent).
RESERVED_PARAM_NAMES = frozenset({
    "cid", "currency", "customer_id", "customerid", "dclid", "gclid", "session_id", "sessionid", "sfmc_id",
    "sid", "srsltid", "uid", "user_id", "userid", "engagement_time_msec", "session_number",
})
RESERVED_USER_PROPERTY_NAMES = frozenset({
    "first_open_time", "first_visit_time", "last_deep_link_referrer", "user_id", "first_open_after_install",
    "cid", "customer_id", "customerid", "google_allow_ad_personalization_signals",
})
RESERVED_USER_PROPERTY_PREFIXES = ("_", "firebase_", "ga_", "google_")


def name_problem(name: str, max_len: int = NAME_MAX) -> str | None:
    """Why GA4 would drop this event or param name, or None when it is fine."""
    if not name:
        return "it is empty"
    if not name[0].isalpha():
        return "it must start with a letter"
    if not NAME_RE.match(name):
        bad = sorted({c for c in name if not (c.isalnum() or c == "_")})
        shown = " ".join(repr(c) for c in bad)
        return f"it may contain only letters, digits and `_` (found {shown})"
    if len(name) > max_len:
        return f"it is {len(name)} characters long; GA4 allows at most {max_len}"
    return None


def safe_name(name: str) -> str:
    """A GA4-valid suggestion for a bad name: lowercase, `_` for other characters."""
    cleaned = re.sub(r"[^a-z0-9_]+", "_", name.strip().lower()).strip("_")
    if not cleaned or not cleaned[0].isalpha():
        cleaned = "e_" + cleaned
    return cleaned[:NAME_MAX]
