"""Personal data: GA4's policy forbids sending it, so the catalog must say which params could hold it."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..issues import Issue, SourceLocation
from ..parse.catalog import KpiCatalog
from .base import Rule
from .declarations import declared_params, declared_user_properties
from .pii_values import personal_kind

_EMAIL_WORDS = {"email", "mail", "emailaddress"}
_PHONE_WORDS = {"phone", "telephone", "mobile", "tel", "msisdn", "fax", "phonenumber"}
_NAME_WORDS = {"surname", "firstname", "lastname", "fullname", "username", "givenname", "familyname"}
_NAME_OWNERS = {"first", "last", "full", "given", "family", "middle", "maiden", "customer", "user", "contact",
                "person", "buyer", "recipient", "billing", "shipping", "account", "holder", "card", "real", "sender"}
_ADDRESS_WORDS = {"address", "street", "postcode", "zipcode", "zip", "postal", "addr", "housenumber"}

# A national phone number in an example (030 1234567); international ones and e-mail addresses are the
# warehouse's own definition (pii_values.py).
_LOCAL_PHONE_VALUE = re.compile(r"^\(?0\d{1,5}\)?[\s\-/]\d[\d\s\-/]{4,}\d$")
_ADDRESS_VALUE = re.compile(r"\b\d+\w?\s+\w+.*\b(street|st|road|rd|avenue|ave|lane|way|strasse|straße|weg|platz)\b|"
                            r"\b\w*(strasse|straße|weg|platz)\s+\d+", re.IGNORECASE)

_KIND_WORDS = {"email": "e-mail addresses", "phone": "phone numbers", "name": "people's names", "address": "postal addresses",
               "other": "IP addresses"}


def _kind_from_name(name: str) -> str | None:
    tokens = [t for t in re.split(r"[_\W]+|(?<=[a-z])(?=[A-Z])", name) if t]
    lowered = [t.lower() for t in tokens]
    joined = "".join(lowered)
    if _EMAIL_WORDS & set(lowered) or "email" in joined:
        return "email"
    if _PHONE_WORDS & set(lowered) or "phone" in joined:
        return "phone"
    if _NAME_WORDS & set(lowered) or any(t in joined for t in ("firstname", "lastname", "surname", "fullname")):
        return "name"
    for before, word in zip(lowered, lowered[1:], strict=False):
        if word == "name" and before in _NAME_OWNERS:
            return "name"
    if "ip" in lowered and ("address" in lowered or "addr" in lowered):
        return "other"
    if _ADDRESS_WORDS & set(lowered):
        return "address"
    return None


def _kind_from_value(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    if kind := personal_kind(text):
        return kind
    if _LOCAL_PHONE_VALUE.match(text) and sum(c.isdigit() for c in text) >= 7:
        return "phone"
    if _ADDRESS_VALUE.search(text):
        return "address"
    return None


def _kind_from_pattern(pattern: str | None) -> str | None:
    if not pattern:
        return None
    if "@" in pattern:
        return "email"
    if re.search(r"^\^?\(?\\\+|^\^?\(?\+", pattern) and ("\\d" in pattern or "0-9" in pattern):
        return "phone"
    return None


def pii_signal(name: str, pattern: str | None = None, example: object = None) -> tuple[str, str] | None:
    """(kind, what gave it away) when a param looks like it holds personal data."""
    if kind := _kind_from_name(name):
        return kind, "its name"
    if kind := _kind_from_value(example):
        return kind, f"its example `{str(example)[:40]}`"
    if kind := _kind_from_pattern(pattern):
        return kind, "its pattern"
    return None


def _subjects(catalog: KpiCatalog) -> Iterator[tuple[str, str, object, SourceLocation, SourceLocation]]:
    """(label, name, spec, location of the name, location of `pii:`) for every declared param and user property."""
    for p in declared_params(catalog):
        yield f"the param `{p.name}` of `{p.event.name}`", p.name, p.spec, p.locate(), p.locate("pii")
    for u in declared_user_properties(catalog):
        yield f"the user property `{u.name}`", u.name, u.spec, u.locate(), u.locate("pii")


class UndeclaredPiiRule(Rule):
    code = "KB501"
    title = "params that look personal say whether they are (`pii:`)"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for label, name, spec, at, _pii_at in _subjects(catalog):
            if "pii" in spec.model_fields_set:  # type: ignore[attr-defined]
                continue  # declared either way; `pii: false` is the way to say "not personal"
            signal = pii_signal(name, getattr(spec, "pattern", None), getattr(spec, "example", None))
            if signal is None:
                continue
            kind, clue = signal
            yield self.issue(
                f"{label} looks like it holds {_KIND_WORDS[kind]} ({clue}), but it does not say whether it is "
                "personal data.", at,
                f"If it does hold {_KIND_WORDS[kind]}, it must not go to GA4: remove it. If it does not, add "
                "`pii: false` to say so.")


class PiiForGa4Rule(Rule):
    code = "KB502"
    title = "no personal data is sent to GA4"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for label, _name, spec, _at, pii_at in _subjects(catalog):
            pii = getattr(spec, "pii", False)
            if not pii:
                continue
            kind = f" ({pii})" if isinstance(pii, str) else ""
            yield self.issue(
                f"{label} is declared as personal data{kind}; Google's policy forbids sending personal data "
                "to GA4, so it cannot be part of the tracking plan.", pii_at,
                "Remove it, or send a value that identifies nobody instead (e.g. `contact_method: email` "
                "rather than the address) and declare that one with `pii: false`.")
