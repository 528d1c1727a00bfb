"""Valid catalog, one mutation, exactly one issue: each rule on a copy of kpis/ with one thing broken."""

from __future__ import annotations

import pytest

from generator.issues import Level


def test_the_examples_have_no_issue(examples) -> None:
    report = examples.report()
    assert report.sorted() == []
    assert report.files_checked == len(list(examples.root.rglob("*.yaml")))


# --- KB2xx: the models -----------------------------------------------------------------------------

def test_typo_in_a_key_suggests_the_right_one(examples) -> None:
    issue = examples.replace("revenue/average_order_value.yaml", "  average: {event", "  averge: {event").only_issue("KB201")
    assert "Did you mean `average`?" in issue.message
    assert (issue.location.file, issue.location.line, issue.location.column) == ("revenue/average_order_value.yaml", 10, 3)


def test_a_key_that_looks_like_a_type_name_is_still_a_key(examples) -> None:
    issue = examples.replace("leads/leads.yaml", "title:", "Title:").only_issue("KB201")
    assert "`Title`" in issue.message and "Did you mean `title`?" in issue.message


def test_missing_key_says_what_it_is_for(examples) -> None:
    issue = examples.drop_top("leads/leads.yaml", "owner").only_issue("KB202")
    assert "`owner` is missing" in issue.message and "who answers" in issue.hint


def test_wrong_type(examples) -> None:
    issue = examples.set_top("leads/leads.yaml", "target", "sixty").only_issue("KB203")
    assert issue.location.line == examples.line_of("leads/leads.yaml", "target")


def test_not_one_of_the_choices(examples) -> None:
    issue = examples.replace("leads/leads.yaml", "direction: up", "direction: upp").only_issue("KB204")
    assert "Did you mean `up`?" in issue.message


def test_two_measure_kinds(examples) -> None:
    examples.replace("leads/leads.yaml", "  count: {event: generate_lead}", "  count: {event: generate_lead}\n  sessions: {}")
    assert "exactly one" in examples.only_issue("KB205").message


def test_neither_kpi_nor_catalog(examples) -> None:
    examples.write("notes.yaml", "version: 1\ntitle: notes\n").only_issue("KB206")


# --- KB3xx: references -----------------------------------------------------------------------------

def test_unknown_event(examples) -> None:
    issue = examples.replace("leads/leads.yaml", "{event: generate_lead}", "{event: generate_leads}").only_issue("KB301")
    assert "Did you mean `generate_lead`?" in issue.message


def test_unknown_param(examples) -> None:
    issue = examples.replace("leads/email_sign_ups.yaml", "param: method", "param: methd").only_issue("KB302")
    assert "Did you mean `method`?" in issue.message


def test_unknown_kpi_in_formula(examples) -> None:
    issue = examples.replace("revenue/revenue_per_new_user.yaml", "revenue / new_users", "revenue / new_user").only_issue("KB303")
    assert "Did you mean `new_users`?" in issue.message


def test_duplicate_kpi_id(examples) -> None:
    examples.write("other/revenue.yaml", examples.path("revenue/revenue.yaml").read_text())
    assert "already used by" in examples.only_issue("KB304").message


def test_unknown_dimension(examples) -> None:
    issue = examples.replace("acquisition/sessions.yaml", "device_category]", "device_categry]").only_issue("KB305")
    assert "Did you mean `device_category`?" in issue.message


def test_bad_formula(examples) -> None:
    examples.replace("revenue/revenue_per_new_user.yaml", "revenue / new_users", '"revenue / / new_users"').only_issue("KB306")


def test_derived_cycle(examples) -> None:
    examples.replace("acquisition/new_users.yaml", "  new_users: {}", "  derived: {formula: revenue_per_new_user * 2}")
    assert "circle" in examples.only_issue("KB307").message


def test_event_declared_twice(examples) -> None:
    examples.write("more_events.yaml", "version: 1\nevents:\n  sign_up:\n    trigger: When the account is created.\n")
    examples.only_issue("KB309")


def test_sum_of_a_text_param(examples) -> None:
    examples.replace("revenue/revenue.yaml", "param: value}", "param: payment_type}").only_issue("KB310")


def test_sessions_filtered_by_a_param(examples) -> None:
    examples.replace("acquisition/sessions.yaml", "  sessions: {}", "  sessions: {where: [{param: method, equals: email}]}")
    examples.only_issue("KB311")


def test_param_breakdown_on_sessions(examples) -> None:
    examples.replace("acquisition/sessions.yaml", "[channel, device_category]", "[channel, {param: lead_source}]")
    examples.only_issue("KB312")


# --- KB40x: GA4 names --------------------------------------------------------------------------------

def _rename_event(examples, old: str, new: str) -> None:
    examples.replace("events.yaml", f"  {old}:", f"  {new}:")
    examples.replace("leads/email_sign_ups.yaml", f"event: {old}", f"event: {new}")


def test_event_name_with_a_dash(examples) -> None:
    _rename_event(examples, "sign_up", "sign-up")
    issue = examples.only_issue("KB401")
    assert "`sign_up`" in issue.hint  # the suggested valid name


def _rename_param(examples, new: str) -> None:
    examples.replace("events.yaml", "      payment_type:", f"      {new}:")
    examples.replace("revenue/revenue.yaml", "{param: payment_type}", f"{{param: {new}}}")


def test_param_name_with_a_dash(examples) -> None:
    _rename_param(examples, "payment-type")
    examples.only_issue("KB402")


def test_reserved_event_name(examples) -> None:
    _rename_event(examples, "sign_up", "error")
    examples.only_issue("KB403")


def test_reserved_event_prefix(examples) -> None:
    _rename_event(examples, "sign_up", "ga_sign_up")
    assert "`sign_up`" in examples.only_issue("KB404").hint


def test_reserved_param_prefix(examples) -> None:
    _rename_param(examples, "google_payment_type")
    examples.only_issue("KB405")


def test_user_property_name_too_long(examples) -> None:
    examples.edit("events.yaml", lambda t: t + "user_properties:\n  customer_lifetime_segment: {type: string}\n")
    examples.only_issue("KB406")


def test_reserved_user_property(examples) -> None:
    examples.edit("events.yaml", lambda t: t + "user_properties:\n  first_visit_time: {type: string}\n")
    examples.only_issue("KB407")


# --- KB41x: consistency --------------------------------------------------------------------------------

def test_param_type_conflicts_with_another_event(examples) -> None:
    examples.replace("events.yaml", "        type: string\n        enum: [card, paypal, invoice]",
                     "        type: integer\n        enum: [1, 2, 3]")
    issue = examples.only_issue("KB411")
    assert "`add_payment_info`" in issue.message


# --- KB42x: GA4 limits ------------------------------------------------------------------------------------

def test_too_many_params(examples) -> None:
    extra = "".join(f"      extra_{i:02d}: {{type: string}}\n" for i in range(17))  # purchase has 9 already
    examples.replace("events.yaml", "      payment_type:\n", extra + "      payment_type:\n")
    assert "27 params" in examples.only_issue("KB421").message


def test_the_spec_stamp_counts_in_the_params_budget(examples) -> None:
    # 9 + 16 = 25 declared params: GA4's limit, but every event also carries `kb_spec`
    extra = "".join(f"      extra_{i:02d}: {{type: string}}\n" for i in range(16))
    examples.replace("events.yaml", "      payment_type:\n", extra + "      payment_type:\n")
    message = examples.only_issue("KB421").message
    assert "26 params" in message and "`kb_spec` spec stamp" in message


def test_enum_value_too_long(examples) -> None:
    examples.replace("events.yaml", "enum: [card, paypal, invoice]", f"enum: [card, paypal, {'x' * 101}]")
    examples.only_issue("KB422")


def test_too_many_user_properties(examples) -> None:
    props = "".join(f"  segment_{i:02d}: {{type: string}}\n" for i in range(26))
    examples.edit("events.yaml", lambda t: t + "user_properties:\n" + props)
    assert "26 user properties" in examples.only_issue("KB423").message


def _add_params(examples, event_line: str, names: list[str], type_: str) -> None:
    block = "".join(f"      {n}: {{type: {type_}}}\n" for n in names)
    examples.replace("events.yaml", event_line, event_line + block)


def _kpi_like(examples, source: str, kpi: str, old: str, new: str) -> str:
    text = examples.path(source).read_text().replace(f"kpi: {source.rsplit('/', 1)[1][:-5]}", f"kpi: {kpi}")
    assert old in text
    return text.replace(old, new)


def test_too_many_custom_dimensions(examples) -> None:
    # lead_source and payment_type are custom dimensions already; 49 more param filters make 51.
    anchors = {"generate_lead": "      lead_source:\n", "sign_up": "      method:\n", "purchase": "      payment_type:\n"}
    for event, n in {"generate_lead": 20, "sign_up": 20, "purchase": 9}.items():
        names = [f"{event}_f{i:02d}" for i in range(n)]
        examples.replace("events.yaml", anchors[event],
                         "".join(f"      {p}: {{type: string}}\n" for p in names) + anchors[event])
        where = ", ".join(f"{{param: {p}, not_equals: x}}" for p in names)
        examples.write(f"filtered/{event}_filtered.yaml", _kpi_like(
            examples, "leads/leads.yaml", f"{event}_filtered", "count: {event: generate_lead}",
            f"count: {{event: {event}, where: [{where}]}}").replace(", {param: lead_source}", ""))
    assert "51 event-scoped custom dimensions" in examples.only_issue("KB424").message


def test_too_many_custom_metrics(examples) -> None:
    names = [f"amount_{i:02d}" for i in range(51)]
    # at most 24 params an event (its own, GA4's documented ones and the `kb_spec` stamp), 51 in all
    events = {"purchase": names[:15], "generate_lead": names[15:36], "sign_up": names[36:]}
    anchors = {"generate_lead": "      lead_source:\n", "sign_up": "      method:\n", "purchase": "      payment_type:\n"}
    for event, params in events.items():
        examples.replace("events.yaml", anchors[event], "".join(f"      {p}: {{type: number}}\n" for p in params) + anchors[event])
        for p in params:
            examples.write(f"metrics/{p}.yaml", _kpi_like(
                examples, "revenue/revenue.yaml", p, "{event: purchase, param: value}", f"{{event: {event}, param: {p}}}",
            ).replace("breakdowns: [channel, {param: payment_type}]", "breakdowns: [channel]"))
    assert "51 custom metrics" in examples.only_issue("KB425").message


def test_reserved_param_as_custom_dimension(examples) -> None:
    examples.replace("events.yaml", "      method:\n", "      gclid: {type: string}\n      method:\n")
    examples.replace("leads/email_sign_ups.yaml", "      - {param: method, equals: email}",
                     "      - {param: method, equals: email}\n      - {param: gclid, starts_with: Cj}")
    examples.only_issue("KB426")


# --- KB43x: recommended events keep their shape ----------------------------------------------------------

def test_required_param_of_purchase_made_optional(examples) -> None:
    examples.replace("events.yaml", "      payment_type:\n", "      transaction_id: {type: string}\n      payment_type:\n")
    examples.only_issue("KB431")


def test_type_of_purchase_param_changed(examples) -> None:
    examples.replace("events.yaml", "      payment_type:\n",
                     "      transaction_id: {type: integer, required: true}\n      payment_type:\n")
    assert "`string`" in examples.only_issue("KB432").message


# --- KB5xx: personal data -----------------------------------------------------------------------------

def test_param_that_looks_like_an_email(examples) -> None:
    examples.replace("events.yaml", "      lead_source:\n", "      customer_email: {type: string}\n      lead_source:\n")
    issue = examples.only_issue("KB501")
    assert "e-mail" in issue.message and "pii: false" in issue.hint


def test_pii_false_is_the_escape_hatch(examples) -> None:
    examples.replace("events.yaml", "      lead_source:\n",
                     "      email_opt_in: {type: boolean, pii: false}\n      lead_source:\n")
    assert examples.report().sorted() == []


def test_declared_pii_is_refused_for_ga4(examples) -> None:
    examples.replace("events.yaml", "      lead_source:\n", "      customer_email: {type: string, pii: email}\n      lead_source:\n")
    examples.only_issue("KB502")


# --- KB6xx: targets and thresholds -----------------------------------------------------------------------

def test_currency_format_without_currency(examples) -> None:
    examples.drop_top("revenue/revenue.yaml", "currency").only_issue("KB601")


def test_currency_without_currency_format(examples) -> None:
    issue = examples.set_top("acquisition/sessions.yaml", "format", "number\ncurrency: EUR").only_issue("KB602")
    assert issue.level is Level.WARNING


def _leads(examples, target: str, thresholds: str, direction: str = "up"):
    """leads.yaml with known values, whatever the examples currently hold."""
    examples.set_top("leads/leads.yaml", "direction", direction)
    examples.set_top("leads/leads.yaml", "target", target)
    return examples.set_top("leads/leads.yaml", "thresholds", thresholds)


def test_threshold_on_the_wrong_side(examples) -> None:
    issue = _leads(examples, "60", "{warn_above: 45, critical_below: 30}").only_issue("KB603")
    assert "Did you mean `warn_below`?" in issue.message


def test_critical_not_below_warn(examples) -> None:
    issue = _leads(examples, "60", "{warn_below: 45, critical_below: 50}").only_issue("KB604")
    assert "Swap" in issue.hint


def test_target_below_warn(examples) -> None:
    _leads(examples, "40", "{warn_below: 45, critical_below: 30}").only_issue("KB605")


def test_percent_target_written_as_whole_number(examples) -> None:
    examples.set_top("conversion/add_to_cart_rate.yaml", "target", "12")
    examples.set_top("conversion/add_to_cart_rate.yaml", "thresholds", "{warn_below: 0.10, critical_below: 0.08}")
    # sessions with add_to_cart / sessions with view_item: a share, so above 1 is an error (KB609), not KB606's warning
    issue = examples.only_issue("KB609")
    assert "0.12" in issue.message and issue.level.value == "error"


def test_duplicate_target_date(examples) -> None:
    examples.set_top("acquisition/new_users.yaml", "thresholds", "{warn_below: 200, critical_below: 150}")
    examples.set_top("acquisition/new_users.yaml", "target",
                     "\n  - {from: 2026-01-01, value: 240}\n  - {from: 2026-01-01, value: 260}")
    examples.only_issue("KB607")


@pytest.mark.parametrize("direction, thresholds, target", [
    ("up", "{warn_below: 45, critical_below: 30}", "60"),
    ("up", "{warn_below: 60, critical_below: 30}", "60"),  # the target may sit on the warn line
    ("down", "{warn_above: 0.4, critical_above: 0.5}", "0.35"),
])
def test_contiguous_bands_pass(examples, direction: str, thresholds: str, target: str) -> None:
    _leads(examples, target, thresholds, direction)
    assert examples.report().sorted() == []


# --- KB7xx: warnings -----------------------------------------------------------------------------------

def test_high_cardinality_breakdown(examples) -> None:
    examples.replace("acquisition/sessions.yaml", "[channel, device_category]", "[channel, page_path]").only_issue("KB701")


def test_custom_event_used_only_by_a_draft(examples) -> None:
    _rename_event(examples, "sign_up", "account_created")
    examples.replace("leads/email_sign_ups.yaml", "team: b2b\n", "team: b2b\nstatus: draft\n")
    issue = examples.only_issue("KB702")
    assert "draft" in issue.message and issue.level is Level.WARNING


def test_builtin_event_declared_for_its_trigger_alone_is_fine(examples) -> None:
    examples.edit("events.yaml", lambda t: t + "  login:\n    trigger: When the login form succeeds.\n")
    assert examples.report().sorted() == []


def test_used_event_without_trigger(examples) -> None:
    examples.replace("events.yaml", "  sign_up:\n    trigger: When account creation succeeds (the welcome page loads).\n",
                     "  account_created:\n")
    examples.replace("leads/email_sign_ups.yaml", "event: sign_up", "event: account_created")
    examples.only_issue("KB703")


def test_file_not_named_after_the_kpi(examples) -> None:
    examples.path("leads/leads.yaml").rename(examples.path("leads/lead_count.yaml"))
    examples.only_issue("KB704")
