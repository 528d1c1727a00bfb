"""The demo shop's world: channels, devices, countries, pages and behaviour rates.

Numbers only; `demo.py` turns them into events. Rates are per session unless the name says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SITE = "https://shop.example"
CURRENCY = "EUR"
CAMPAIGN = "winter_sale"  # lifts Paid Social in the middle third of the period


@dataclass(frozen=True)
class Traffic:
    """How a session arrives: its collected_traffic_source and the behaviour that comes with it."""

    channel: str  # the default channel group GA4 would assign
    source: str | None  # None: direct, no collected_traffic_source at all
    medium: str | None
    campaign: str | None
    landing: str  # landing page path, with the UTM tags the link carries
    share_new: float  # share of new users' sessions
    share_returning: float  # share of returning users' sessions
    browse: float  # multiplier on reaching a product page
    buy: float  # multiplier on checkout → purchase
    bounce: float  # multiplier on the device's bounce rate
    gclid: bool = False


TRAFFIC: tuple[Traffic, ...] = (
    Traffic("Organic Search", "google", "organic", None, "/", 0.34, 0.24, 1.0, 1.0, 1.0),
    Traffic(
        "Paid Search", "google", "cpc", "brand_search",
        "/?utm_source=google&utm_medium=cpc&utm_campaign=brand_search", 0.17, 0.10, 1.25, 1.15, 0.9, gclid=True,
    ),
    Traffic(
        "Paid Social", "facebook", "paid_social", "prospecting",
        "/?utm_source=facebook&utm_medium=paid_social&utm_campaign=prospecting", 0.12, 0.05, 0.75, 0.8, 1.3,
    ),
    Traffic(
        "Email", "newsletter", "email", "weekly_newsletter",
        "/?utm_source=newsletter&utm_medium=email&utm_campaign=weekly_newsletter", 0.02, 0.20, 1.3, 1.25, 0.8,
    ),
    Traffic("Direct", None, None, None, "/", 0.23, 0.36, 1.1, 1.1, 0.9),
    Traffic("Referral", "partner-blog.example", "referral", None, "/blog/winter-guide", 0.12, 0.05, 0.85, 0.9, 1.1),
    # Paid Social during the campaign: same channel, its own campaign and landing page, better offers.
    Traffic(
        "Paid Social", "facebook", "paid_social", CAMPAIGN,
        f"/sale?utm_source=facebook&utm_medium=paid_social&utm_campaign={CAMPAIGN}", 0.0, 0.0, 1.1, 1.5, 1.1,
    ),
)
PAID_SOCIAL, EMAIL, DIRECT, CAMPAIGN_TRAFFIC = 2, 3, 4, 6
CAMPAIGN_SHARE_LIFT = 3.5  # Paid Social's weight is multiplied by this during the campaign
EMAIL_WEEKDAYS = (1, 3)  # the newsletter goes out on Tuesdays and Thursdays
EMAIL_WEEKDAY_LIFT = 2.2
WEEKDAY_VOLUME = np.array([1.04, 1.08, 1.06, 1.03, 0.95, 0.84, 0.90])  # Monday first
HOUR_WEIGHTS = np.array(  # sessions start 00:00-22:59 UTC, so a session never crosses midnight
    [2, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 9, 8, 8, 8, 8, 9, 10, 12, 13, 12, 8], dtype=float
)

DEVICE_CATEGORIES = ("desktop", "mobile", "tablet")
DEVICE_SHARE = np.array([0.42, 0.50, 0.08])
DEVICE_BOUNCE = np.array([0.30, 0.43, 0.36])
DEVICE_BROWSE = np.array([1.0, 0.92, 1.0])
DEVICE_BUY = np.array([1.2, 0.68, 0.95])
# (category index, operating system, browser, share within the category)
DEVICE_MODELS: tuple[tuple[int, str, str, float], ...] = (
    (0, "Windows", "Chrome", 0.45),
    (0, "Windows", "Edge", 0.15),
    (0, "Macintosh", "Safari", 0.2),
    (0, "Macintosh", "Chrome", 0.12),
    (0, "Linux", "Firefox", 0.08),
    (1, "Android", "Chrome", 0.5),
    (1, "iOS", "Safari", 0.42),
    (1, "Android", "Samsung Internet", 0.08),
    (2, "iOS", "Safari", 0.7),
    (2, "Android", "Chrome", 0.3),
)

# (country, continent, language, share, ((region, city), (region, city)))
COUNTRIES: tuple[tuple[str, str, str, float, tuple[tuple[str, str], tuple[str, str]]], ...] = (
    ("Germany", "Europe", "de-de", 0.34, (("Berlin", "Berlin"), ("Bavaria", "Munich"))),
    ("United States", "Americas", "en-us", 0.17, (("California", "San Francisco"), ("New York", "New York"))),
    ("United Kingdom", "Europe", "en-gb", 0.12, (("England", "London"), ("Scotland", "Edinburgh"))),
    ("France", "Europe", "fr-fr", 0.10, (("Ile-de-France", "Paris"), ("Auvergne-Rhone-Alpes", "Lyon"))),
    ("Netherlands", "Europe", "nl-nl", 0.08, (("North Holland", "Amsterdam"), ("South Holland", "Rotterdam"))),
    ("Austria", "Europe", "de-at", 0.07, (("Vienna", "Vienna"), ("Salzburg", "Salzburg"))),
    ("Switzerland", "Europe", "de-ch", 0.06, (("Zurich", "Zurich"), ("Geneva", "Geneva"))),
    ("Spain", "Europe", "es-es", 0.06, (("Community of Madrid", "Madrid"), ("Catalonia", "Barcelona"))),
)

P_RETURNING = 0.35
P_BOUNCED_BUT_ENGAGED = 0.2  # a one-page session that still reads for more than 10 s
EXTRA_PAGE_VIEWS_P = 0.4  # geometric: extra page views of a session that does not bounce
MAX_EXTRA_PAGE_VIEWS = 11
P_VIEW_ITEM = 0.42
P_ADD_TO_CART = 0.33
P_BEGIN_CHECKOUT = 0.55
P_PURCHASE = 0.6
P_DUPLICATE_PURCHASE = 0.012  # the confirmation page reloaded: a second purchase with the same transaction id
P_SIGN_UP_NEW, P_SIGN_UP_RETURNING = 0.05, 0.012
SIGN_UP_METHODS = ("email", "google")
PAYMENT_TYPES = ("card", "paypal", "invoice")  # kpis/events.yaml's enum for purchase's payment_type
PAYMENT_BY_ORDER = (0, 0, 0, 0, 0, 0, 1, 1, 1, 2)  # by order number mod 10: 60 % card, 30 % PayPal, 10 % invoice
SIGN_UP_METHOD_SHARE = np.array([0.6, 0.4])
P_LEAD = 0.02
LEAD_SOURCES = ("contact_form", "newsletter", "webinar")
LEAD_SOURCE_SHARE = np.array([0.45, 0.4, 0.15])
LEAD_VALUE = np.array([50.0, 5.0, 20.0])
LEAD_PAGES = ("/contact", "/newsletter", "/webinar")

N_PRODUCTS = 120
PRICES = np.array([19.9, 24.9, 29.0, 34.5, 39.9, 49.9, 59.0, 79.0, 99.0, 129.0, 149.0, 24.0])
P_EXTRA_ITEM = 0.3  # a second product added at checkout

# Malformed events, well under 1% of all events, as real tagging produces them. The lead form's bug
# (an e-mail address in lead_source) is frequent enough to light the lead KPIs' data-health badge.
P_PII_PAGE_VIEW = 0.004  # of page_view events: an email address in page_location
P_VALUE_AS_STRING = 0.01  # of events with a value: "49.90" in string_value
P_MISSING_TRANSACTION_ID = 0.02  # of purchase events
P_PII_LEAD_SOURCE = 0.08  # of generate_lead events: an email address in lead_source
PII_PAGES = ("/account/signup?email=anna.schmidt@example.com", "/newsletter/confirm?email=j.smith@example.org")
PII_LEAD_SOURCE = "newsletter jan.meyer@example.net"

# Each session's events are blocks in this order: (event name, page kind). A block happens 0..n times.
BLOCKS: tuple[tuple[str, str], ...] = (
    ("first_visit", "landing"),  # first: a day's last session may be cut short, and keeps its first events
    ("session_start", "landing"),
    ("page_view", "landing"),
    ("page_view", "browse"),
    ("page_view", "product"),
    ("view_item", "product"),
    ("add_to_cart", "product"),
    ("page_view", "checkout"),
    ("begin_checkout", "checkout"),
    ("page_view", "thank_you"),
    ("purchase", "thank_you"),
    ("page_view", "thank_you"),  # the confirmation page reloaded …
    ("purchase", "thank_you"),  # … sends the purchase again, same transaction id
    ("page_view", "sign_up"),
    ("sign_up", "sign_up"),
    ("page_view", "lead"),
    ("generate_lead", "lead"),
    ("user_engagement", "landing"),
)
EVENT_NAMES: tuple[str, ...] = tuple(dict.fromkeys(name for name, _ in BLOCKS))
