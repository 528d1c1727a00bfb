"""GA4's fixed vocabularies: the values a built-in dimension can take, spelled the way the export spells them.

- `channel`: GA4's default channel groups (ga4.md §9; `generator/sql/channels.py` derives them in that order).
- `device_category`: the export's `device.category`, lowercase: `desktop`, `mobile`, `tablet`, `smart tv`
  (the Data API capitalises them in reports; the export and our SQL do not).
- `platform`: the export's `platform`: `WEB`, `ANDROID`, `IOS`.
- `country`: the export's `geo.country` holds English country names (`Germany`, not `DE`): the "Name" of
  the country-level Google geo targets (developers.google.com/google-ads/api/data/geotargets, whose
  "Country Code" column is the ISO-3166-1 alpha-2 code). `ISO_COUNTRIES` is a hand-picked part of that list
  (the countries with the most web traffic and the EU/EEA), enough to recognise a two-letter code someone
  wrote; it is not every country, so a name missing from it is never reported.
"""

from __future__ import annotations

CHANNELS = (
    "Direct", "Cross-network", "Paid Shopping", "Paid Search", "Paid Social", "Paid Video", "Display",
    "Paid Other", "Organic Shopping", "Organic Social", "Organic Video", "Organic Search", "Referral", "Email",
    "Affiliates", "Audio", "SMS", "Mobile Push Notifications", "Unassigned",
)
"""GA4's default channel groups, in the order `generator/sql/channels.py` applies Google's rules."""

DEVICE_CATEGORIES = ("desktop", "mobile", "tablet", "smart tv")
PLATFORMS = ("WEB", "ANDROID", "IOS")

ISO_COUNTRIES: dict[str, str] = {
    "AE": "United Arab Emirates", "AR": "Argentina", "AT": "Austria", "AU": "Australia", "BD": "Bangladesh",
    "BE": "Belgium", "BG": "Bulgaria", "BR": "Brazil", "CA": "Canada", "CH": "Switzerland", "CL": "Chile",
    "CN": "China", "CO": "Colombia", "CY": "Cyprus", "CZ": "Czechia", "DE": "Germany", "DK": "Denmark",
    "DZ": "Algeria", "EE": "Estonia", "EG": "Egypt", "ES": "Spain", "FI": "Finland", "FR": "France",
    "GB": "United Kingdom", "GR": "Greece", "HK": "Hong Kong", "HR": "Croatia", "HU": "Hungary",
    "ID": "Indonesia", "IE": "Ireland", "IL": "Israel", "IN": "India", "IS": "Iceland", "IT": "Italy",
    "JP": "Japan", "KE": "Kenya", "KR": "South Korea", "LI": "Liechtenstein", "LT": "Lithuania",
    "LU": "Luxembourg", "LV": "Latvia", "MA": "Morocco", "MT": "Malta", "MX": "Mexico", "MY": "Malaysia",
    "NG": "Nigeria", "NL": "Netherlands", "NO": "Norway", "NZ": "New Zealand", "PE": "Peru",
    "PH": "Philippines", "PK": "Pakistan", "PL": "Poland", "PT": "Portugal", "RO": "Romania", "RS": "Serbia",
    "RU": "Russia", "SA": "Saudi Arabia", "SE": "Sweden", "SG": "Singapore", "SI": "Slovenia",
    "SK": "Slovakia", "TH": "Thailand", "TR": "Türkiye", "TW": "Taiwan", "UA": "Ukraine",
    "US": "United States", "VN": "Vietnam", "ZA": "South Africa",
}
"""ISO-3166-1 alpha-2 code → the English name the export's `geo.country` holds."""

_COUNTRY_ALIASES = {"UK": "United Kingdom", "USA": "United States", "U.S.": "United States",
                    "Turkey": "Türkiye", "Czech Republic": "Czechia", "Deutschland": "Germany",
                    "Österreich": "Austria", "Schweiz": "Switzerland", "Korea": "South Korea"}
"""Other spellings people write for a country, → the export's."""

CLOSED_VOCABULARIES: dict[str, tuple[str, ...]] = {
    "channel": CHANNELS,
    "device_category": DEVICE_CATEGORIES,
    "platform": PLATFORMS,
}
"""Dimensions whose every value GA4 fixes: anything else never matches."""

NOT_SET = "(not set)"


def spelling(dimension: str, value: str) -> str | None:
    """The export's spelling of `value` for a GA4 dimension when `value` is a known misspelling of it
    (`DE` → `Germany`, `email` → `Email`, `Desktop` → `desktop`); None when it is right or unknown."""
    if value == NOT_SET:
        return None
    if dimension in CLOSED_VOCABULARIES:
        vocabulary = CLOSED_VOCABULARIES[dimension]
        if value in vocabulary:
            return None
        return next((v for v in vocabulary if v.lower() == value.strip().lower()), None)
    if dimension == "country":
        return country_name(value)
    return None


def country_name(value: str) -> str | None:
    """`DE` / `de` / `Deutschland` / `germany` → `Germany`; None for a correct or unknown name."""
    text = value.strip()
    names = set(ISO_COUNTRIES.values())
    if text in names:
        return None
    found = ISO_COUNTRIES.get(text.upper()) if len(text) == 2 else None
    found = found or _COUNTRY_ALIASES.get(text) or next(
        (n for n in (*names, *_COUNTRY_ALIASES) if n.lower() == text.lower()), None)
    return _COUNTRY_ALIASES.get(found, found) if found else None


def vocabulary(dimension: str) -> tuple[str, ...] | None:
    """Every value a closed GA4 dimension can take (None: the dimension is open, e.g. `city`)."""
    return CLOSED_VOCABULARIES.get(dimension)
