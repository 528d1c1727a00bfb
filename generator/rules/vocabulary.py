"""Filter values GA4 would never produce: `{dimension: country, in: [DE]}` (the export says `Germany`),
`{dimension: channel, equals: email}` (GA4's channel is `Email`). No data needed: GA4 fixes these spellings
(`generator/ga4/vocabularies.py`)."""

from __future__ import annotations

from collections.abc import Iterator

from ..ga4.vocabularies import spelling, vocabulary
from ..issues import Issue, Level, did_you_mean, one_of
from ..parse.catalog import KpiCatalog
from .base import Rule
from .value_uses import value_uses


class Ga4VocabularyRule(Rule):
    code = "KB630"
    level = Level.WARNING
    title = "filter values are spelled the way GA4's export spells them"

    def check(self, catalog: KpiCatalog) -> Iterator[Issue]:
        for use in value_uses(catalog):
            if use.value is None or use.subject.kind != "dimension" or use.matches_part:
                continue
            name, value = use.subject.name, use.value
            right = spelling(name, value)
            if right is not None:
                why = ("GA4's export names countries in English" if name == "country"
                       else f"GA4 spells this {name.replace('_', ' ')} so, and the match is case-sensitive")
                yield self.issue(
                    f"`{value}` never matches: the {name.replace('_', ' ')} is `{right}` in GA4's data ({why}). "
                    f"Did you mean `{right}`?", use.location, f"Write `{right}` instead of `{value}`.")
                continue
            allowed = vocabulary(name)
            if allowed is not None and value not in allowed and value != "(not set)":
                yield self.issue(
                    f"`{value}` is not a {name.replace('_', ' ')} GA4 knows, so the filter never matches."
                    f"{did_you_mean(value, allowed)}", use.location,
                    f"Use one of {one_of(list(allowed), 20)}.")
