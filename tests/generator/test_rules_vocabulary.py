"""KB630: filter values GA4's export would never hold, flagged by `kpi validate` without any data."""

from __future__ import annotations

from generator.ga4.vocabularies import ISO_COUNTRIES, country_name, spelling


def _leads_where(examples, condition: str):
    return examples.replace("leads/leads.yaml", "  count: {event: generate_lead}",
                            f"  count:\n    event: generate_lead\n    where:\n{condition}")


def test_country_codes_are_flagged_at_their_line_with_the_exports_spelling(examples) -> None:
    _leads_where(examples, "      - dimension: country\n        in:\n          - Germany\n          - DE\n          - CH\n")
    issues = [i for i in examples.report().sorted() if i.code == "KB630"]
    lines = examples.root.joinpath("leads/leads.yaml").read_text().splitlines()
    assert [(lines[i.location.line - 1].strip(), i.level.value) for i in issues] == [("- DE", "warning"),
                                                                                      ("- CH", "warning")]
    assert "`DE` never matches" in issues[0].message and "Did you mean `Germany`?" in issues[0].message
    assert "Did you mean `Switzerland`?" in issues[1].message


def test_a_channel_in_the_wrong_case_is_flagged(examples) -> None:
    issue = _leads_where(examples, "      - {dimension: channel, equals: email}\n").only_issue("KB630")
    assert "`email` never matches" in issue.message and "Did you mean `Email`?" in issue.message
    line = examples.root.joinpath("leads/leads.yaml").read_text().splitlines()[issue.location.line - 1]
    assert "equals: email" in line


def test_a_channel_ga4_does_not_have_suggests_the_closest(examples) -> None:
    issue = _leads_where(examples, "      - {dimension: channel, in: [Paid Serach]}\n").only_issue("KB630")
    assert "not a channel GA4 knows" in issue.message and "Did you mean `Paid Search`?" in issue.message


def test_device_categories_are_lowercase_in_the_export(examples) -> None:
    issue = _leads_where(examples, "      - {dimension: device_category, not_equals: Desktop}\n").only_issue("KB630")
    assert "Did you mean `desktop`?" in issue.message


def test_right_spellings_and_open_dimensions_pass(examples) -> None:
    _leads_where(examples, "      - {dimension: country, in: [Germany, Austria, Vatican City]}\n"
                           "      - {dimension: channel, not_in: [Email, Direct, (not set)]}\n"
                           "      - {dimension: city, equals: DE}\n"
                           "      - {dimension: country, contains: DE}\n")
    assert examples.report().sorted() == []


def test_the_country_table() -> None:
    assert len(ISO_COUNTRIES) >= 60 and all(len(code) == 2 and code.isupper() for code in ISO_COUNTRIES)
    assert [country_name(v) for v in ("DE", "at", "Turkey", "czech republic", "Germany", "Atlantis")] == \
        ["Germany", "Austria", "Türkiye", "Czechia", None, None]
    assert spelling("platform", "web") == "WEB" and spelling("channel", "Email") is None
