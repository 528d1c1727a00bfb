"""The Data API's standard dimension and metric names (ga4.md §5), for checking what we emit."""

from __future__ import annotations

from ..issues import did_you_mean

STANDARD_DIMENSIONS = frozenset({
    "date", "dateHour", "dateHourMinute", "year", "month", "week", "day", "dayOfWeek", "hour", "yearMonth",
    "yearWeek", "eventName", "isKeyEvent", "sessionDefaultChannelGroup", "sessionPrimaryChannelGroup",
    "sessionSource", "sessionMedium", "sessionSourceMedium", "sessionCampaignName", "sessionManualCampaignName",
    "sessionManualSource", "sessionManualMedium", "sessionManualTerm", "sessionManualAdContent", "firstUserSource",
    "firstUserMedium", "firstUserCampaignName", "firstUserDefaultChannelGroup", "source", "medium", "campaignName",
    "defaultChannelGroup", "deviceCategory", "platform", "browser", "operatingSystem", "country", "region", "city",
    "language", "landingPage", "landingPagePlusQueryString", "pagePath", "pagePathPlusQueryString", "fullPageUrl",
    "hostName", "pageTitle", "pageReferrer", "newVsReturning", "itemId", "itemName", "itemCategory", "itemBrand",
    "itemVariant", "itemListName", "transactionId", "orderCoupon", "currencyCode", "searchTerm", "method",
})

STANDARD_METRICS = frozenset({
    "eventCount", "eventCountPerUser", "eventsPerSession", "eventValue", "sessions", "totalUsers", "activeUsers",
    "newUsers", "engagedSessions", "engagementRate", "bounceRate", "averageSessionDuration",
    "userEngagementDuration", "screenPageViews", "screenPageViewsPerSession", "screenPageViewsPerUser",
    "sessionsPerUser", "keyEvents", "sessionKeyEventRate", "userKeyEventRate", "purchaseRevenue",
    "grossPurchaseRevenue", "totalRevenue", "transactions", "ecommercePurchases", "addToCarts", "checkouts",
    "itemRevenue", "itemsViewed", "itemsAddedToCart", "itemsCheckedOut", "itemsPurchased", "cartToViewRate",
    "purchaseToViewRate", "purchaserRate", "firstTimePurchasers", "totalPurchasers", "averagePurchaseRevenue",
    "averageRevenuePerUser", "refundAmount", "taxAmount", "shippingAmount", "scrolledUsers",
})

CUSTOM_PREFIXES = ("customEvent:", "customUser:", "customItem:", "averageCustomEvent:", "countCustomEvent:",
                   "keyEvents:", "sessionKeyEventRate:", "userKeyEventRate:")


def unknown_api_name(name: str, kind: str, known: frozenset[str] | set[str] | None = None) -> str | None:
    """Why `name` is not a Data API dimension/metric name (None when it is), with "did you mean".

    `known` is the property's own list from GetMetadata when one is configured; otherwise the standard
    names are used and `customEvent:` names are accepted (they exist once registered).
    """
    pool = known if known is not None else (STANDARD_DIMENSIONS if kind == "dimension" else STANDARD_METRICS)
    if name in pool:
        return None
    if known is None and name.startswith(CUSTOM_PREFIXES):
        return None
    hint = did_you_mean(name, pool)
    if name.startswith("customEvent:") and known is not None:
        return (f"`{name}` is not registered on this property: register the param `{name.split(':', 1)[1]}` as "
                f"a custom {kind} in GA4 Admin (see build/spec/ga4-admin.json).{hint}")
    return f"`{name}` is not a Data API {kind} name.{hint}"
