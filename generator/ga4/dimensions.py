"""The built-in dimensions a KPI may break down or filter by, and what each means in GA4."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dimension:
    """A dimension with the same meaning in the Data API and over the BigQuery export."""

    name: str
    api_name: str
    label: str
    scope: str  # session | event | user
    high_cardinality: bool = False


DIMENSIONS: dict[str, Dimension] = {
    d.name: d
    for d in (
        Dimension("channel", "sessionDefaultChannelGroup", "Channel", "session"),
        Dimension("source", "sessionSource", "Source", "session"),
        Dimension("medium", "sessionMedium", "Medium", "session"),
        Dimension("campaign", "sessionCampaignName", "Campaign", "session"),
        Dimension("device_category", "deviceCategory", "Device category", "event"),
        Dimension("operating_system", "operatingSystem", "Operating system", "event"),
        Dimension("browser", "browser", "Browser", "event"),
        Dimension("country", "country", "Country", "event"),
        Dimension("region", "region", "Region", "event"),
        Dimension("city", "city", "City", "event", high_cardinality=True),
        Dimension("platform", "platform", "Platform", "event"),
        Dimension("language", "language", "Language", "event"),
        Dimension("landing_page", "landingPage", "Landing page", "session", high_cardinality=True),
        Dimension("page_path", "pagePath", "Page path", "event", high_cardinality=True),
    )
}

PARAM_BREAKDOWN_PREFIX = "param:"

HIGH_CARDINALITY_HINTS = ("_id", "id", "url", "location", "referrer", "email", "phone", "term", "query", "title")


def looks_high_cardinality(param: str) -> bool:
    """Params like `transaction_id` or `link_url` have a value per event: poor breakdowns."""
    lowered = param.lower()
    return lowered.endswith(HIGH_CARDINALITY_HINTS) or lowered in {"id", "uid"}
