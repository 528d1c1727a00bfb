"""What a value that is personal data looks like: one definition for `kpi check-events` (check_events.py), the
warehouse's data-quality check (warehouse/quality.py, in DuckDB SQL) and the catalog rule on a param's example
(rules/pii.py); the dashboard groups breakdown values matching it (the serving file keeps the pattern).

The pattern is RE2 (DuckDB's `regexp_matches`) and checked here with RE2 too (generator/rules/regex.py), so every
stage flags exactly the same strings. It searches anywhere in a value and never matches the \\x01 the warehouse
joins an event's values with, so a match never spans two values.
"""

from __future__ import annotations

from typing import Literal

from .regex import search

# An e-mail address, also URL-encoded (`jane%40mail.example` in a page_location).
EMAIL_PATTERN = r"[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
# An international phone number (+49 170 1234567, 0049 …), not inside a longer run of letters or digits.
PHONE_PATTERN = r"(?:^|[^0-9A-Za-z])(?:\+|00)[0-9][0-9 ().\/-]{7,}[0-9](?:$|[^0-9A-Za-z])"
PII_PATTERN = f"(?:{EMAIL_PATTERN})|(?:{PHONE_PATTERN})"
assert "'" not in PII_PATTERN  # the warehouse puts it into its SQL as a literal (DuckDB compiles it once)


def personal_kind(value: str) -> Literal["email", "phone"] | None:
    """"email" or "phone" when the value holds an e-mail address or a phone number, else None."""
    if search(EMAIL_PATTERN, value):
        return "email"
    if search(PHONE_PATTERN, value):
        return "phone"
    return None
