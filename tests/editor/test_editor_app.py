"""The editor driven like a marketer would: every measure kind created in the form, a target edited, a param
added to an event; then the real `kpi validate` checks the files it wrote."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import kpi_validate
from streamlit.testing.v1 import AppTest

ABOUT = {"k.title": "A new KPI", "k.description": "Made in the form editor.", "k.objective": "Grow B2B leads",
         "k.owner": "growth-lead@shop.example", "k.team": "growth"}
# measure kind -> the fields to set (in order: a field can appear only after the one before it is set)
KINDS: dict[str, list[tuple[str, str, object]]] = {
    "count": [("selectbox", "k.m.one.event", "sign_up"), ("button", "k.m.one.add", None),
              ("selectbox", "k.m.one.where.0.name", "method"), ("text_input", "k.m.one.where.0.value", "email")],
    "users_with": [("selectbox", "k.m.one.event", "purchase")],
    "sessions_with": [("selectbox", "k.m.one.event", "add_to_cart")],
    "users": [],
    "sessions": [("button", "k.m.one.add", None), ("selectbox", "k.m.one.where.0.name", "country"),
                 ("selectbox", "k.m.one.where.0.op", "in"), ("text_input", "k.m.one.where.0.value", "DE, AT")],
    "new_users": [],
    "engaged_sessions": [],
    "sum": [("selectbox", "k.m.one.event", "purchase"), ("selectbox", "k.m.one.param", "value")],
    "average": [("selectbox", "k.m.one.event", "generate_lead"), ("selectbox", "k.m.one.param", "value")],
    "ratio": [("selectbox", "k.m.num.kind", "sessions_with"), ("selectbox", "k.m.num.event", "begin_checkout"),
              ("selectbox", "k.m.den.kind", "sessions")],
    "conversion": [("selectbox", "k.m.from.event", "view_item"), ("selectbox", "k.m.to.event", "add_to_cart"),
                   ("text_input", "k.m.within", "7d"), ("radio", "k.m.per", "session")],
    "derived": [("selectbox", "k.m.formula_pick", "revenue"), ("text_input", "k.m.formula", None),
                ("selectbox", "k.m.formula_pick", "sessions")],
}


def set_field(at: AppTest, widget: str, key: str, value: object) -> AppTest:
    if widget == "button":
        return at.button(key=key).click().run()
    if widget == "text_input" and value is None:  # append an operator to what the picker wrote
        element = at.text_input(key=key)
        return element.input(f"{element.value} /").run()
    element = getattr(at, widget)(key=key)
    return (element.input(value) if widget == "text_input" else element.set_value(value)).run()


def fill_about(at: AppTest, kpi_id: str, **extra: str) -> AppTest:
    at.text_input(key="k.kpi").input(kpi_id).run()
    for key, value in {**ABOUT, "k.title": f"KPI {kpi_id}", **extra}.items():
        widget = at.text_area(key=key) if key == "k.description" else at.text_input(key=key)
        widget.input(value).run()
    return at


def shown(elements) -> list[str]:
    """Texts as the user reads them (the editor escapes Markdown in everything the user typed)."""
    return [e.value.replace("\\", "") for e in elements]


def errors(at: AppTest) -> list[str]:
    return shown(at.error)


def test_create_one_kpi_of_each_measure_kind_then_kpi_validate_passes(editor: AppTest, kpis_dir: Path):
    at = editor
    for kind, steps in KINDS.items():
        at.sidebar.button(key="nav.new").click().run()
        kpi_id = f"made_{kind}"
        fill_about(at, kpi_id)
        at.selectbox(key="k.m.kind").set_value(kind).run()
        for widget, key, value in steps:
            at = set_field(at, widget, key, value)
            assert not at.exception, (kind, key, at.exception)
        assert errors(at) == [], (kind, errors(at))
        at.button(key="save.go").click().run()
        assert not at.exception
        assert shown(at.success)[0] == f"Saved kpis/leads/{kpi_id}.yaml.", kind
    written = sorted(p.name for p in (kpis_dir / "leads").glob("made_*.yaml"))
    assert written == sorted(f"made_{k}.yaml" for k in KINDS)
    result = kpi_validate("--format", "json", str(kpis_dir))
    report = json.loads(result.stdout)
    assert result.returncode == 0, report["issues"]
    assert report["errors"] == 0
    made = {k: (kpis_dir / "leads" / f"made_{k}.yaml").read_text() for k in KINDS}
    assert "where:\n      - {param: method, equals: email}" in made["count"]
    assert "- {dimension: country, in: [DE, AT]}" in made["sessions"]
    assert "conversion:\n    from: view_item\n    to: add_to_cart\n    within: 7d\n    per: session" in made["conversion"]
    assert "derived: {formula: revenue / sessions}" in made["derived"]
    assert made["sum"].startswith("# yaml-language-server: $schema=../kpi.schema.json\nversion: 1\nkpi: made_sum\n")


def test_edit_a_target_keeps_comments_and_every_other_line(editor: AppTest, kpis_dir: Path):
    path = kpis_dir / "revenue" / "revenue.yaml"
    before = path.read_text().replace("target:\n", "# Finance agreed these targets in the Q4 review.\ntarget:\n")
    path.write_text(before)
    at = editor.sidebar.button(key="open:revenue").click().run()
    assert not at.sidebar.warning
    at.text_input(key="k.target.1.value").input("1250").run()
    assert "Unsaved changes" in at.sidebar.warning[0].value
    diff = at.code[0].value
    assert "-  - {from: 2026-10-01, value: 1200}\n+  - {from: 2026-10-01, value: 1250}" in diff
    at.button(key="save.go").click().run()
    after = path.read_text()
    assert after == before.replace("value: 1200}", "value: 1250}")
    assert "# Finance agreed these targets in the Q4 review." in after
    assert after.startswith("# yaml-language-server: $schema=../kpi.schema.json\n")
    assert kpi_validate(str(kpis_dir)).returncode == 0


def test_time_phased_target_step_added(editor: AppTest, kpis_dir: Path):
    at = editor.sidebar.button(key="open:session_conversion_rate").click().run()
    at.button(key="k.target_add").click().run()
    import datetime as dt
    at.date_input(key="k.target.2.from").set_value(dt.date(2027, 1, 1)).run()
    at.text_input(key="k.target.2.value").input("0.04").run()
    at.button(key="save.go").click().run()
    text = (kpis_dir / "conversion" / "session_conversion_rate.yaml").read_text()
    assert "  - {from: 2026-07-01, value: 0.035}\n  - {from: 2027-01-01, value: 0.04}\n" in text
    assert kpi_validate(str(kpis_dir)).returncode == 0


def test_add_a_param_to_an_event(editor: AppTest, kpis_dir: Path):
    at = editor.sidebar.button(key="nav.events").click().run()
    at.selectbox(key="pa.event").set_value("sign_up").run()
    at.text_input(key="pa.name").input("plan").run()
    at.checkbox(key="pa.required").check().run()
    at.text_input(key="pa.allowed").input("free, pro").run()
    at.text_input(key="pa.description").input("The plan chosen at sign-up.").run()
    assert "+      plan:\n+        type: string\n+        required: true" in at.code[0].value
    assert "BREAKING for IT" in at.code[1].value  # a new required param: the site does not send it yet
    at.button(key="ev.save").click().run()
    assert not at.exception
    text = (kpis_dir / "events.yaml").read_text()
    assert "      plan:\n        type: string\n        required: true\n" in text
    assert "        enum: [free, pro]\n" in text
    assert text.startswith("# yaml-language-server: $schema=kpi.schema.json\n# The events catalog")
    assert kpi_validate(str(kpis_dir)).returncode == 0


def test_add_an_event(editor: AppTest, kpis_dir: Path):
    at = editor.sidebar.button(key="nav.events").click().run()
    at.radio(key="ev.what").set_value("an event").run()
    at.text_input(key="ev.name").input("start-trial").run()
    assert any("KB" in e for e in errors(at)), errors(at)  # a dash is not allowed in GA4 event names
    assert at.button(key="ev.save").disabled
    at.text_input(key="ev.name").input("start_trial").run()
    at.text_input(key="ev.trigger").input("When the trial confirmation page loads.").run()
    at.button(key="ev.save").click().run()
    assert "  start_trial:\n    trigger: When the trial confirmation page loads.\n" in (kpis_dir / "events.yaml").read_text()


def test_an_invalid_entry_shows_the_same_issue_as_kpi_validate_and_saves_only_as_a_draft(editor: AppTest,
                                                                                          kpis_dir: Path):
    at = editor.sidebar.button(key="open:revenue_per_new_user").click().run()
    at.text_input(key="k.m.formula").input("revenu / new_users").run()
    typo = errors(at)
    assert any(e.startswith("KB") and "Did you mean `revenue`?" in e for e in typo), typo
    at.text_input(key="k.th.warn").input("four").run()
    before_save = errors(at)
    assert at.button(key="save.go").disabled  # errors: no plain save
    at.checkbox(key="save.draft").check().run()
    at.button(key="save.go").click().run()
    path = kpis_dir / "revenue" / "revenue_per_new_user.yaml"
    assert "status: draft" in path.read_text() and "formula: revenu / new_users" in path.read_text()
    result = kpi_validate("--format", "json", str(kpis_dir))
    assert result.returncode == 1
    cli = [i for i in json.loads(result.stdout)["issues"] if i["file"].endswith("revenue_per_new_user.yaml")]
    assert [i["code"] for i in cli] == ["KB203"]  # the file no longer parses: its references are not checked
    for issue in cli:  # each issue `kpi validate` reports is shown by the editor, with the same words
        expected = f"{issue['code']} ({issue['key_path']}): {issue['message']} {issue['hint']}".strip()
        assert expected in before_save or expected in errors(at) + shown(at.warning), (expected, before_save)
    at.text_input(key="k.th.warn").input("4").run()  # fixed: the typo's issue is back, as `kpi validate` says
    assert any("Did you mean `revenue`?" in e for e in errors(at))


def test_changing_an_existing_param_starts_from_what_the_file_says(editor: AppTest, kpis_dir: Path):
    at = editor.sidebar.button(key="nav.events").click().run()
    at.selectbox(key="pa.event").set_value("generate_lead").run()
    at.text_input(key="pa.name").input("lead_source").run()
    assert at.text_input(key="pa.allowed").value == "contact_form, newsletter, webinar"
    assert at.text_input(key="pa.description").value == "Which form produced the lead."
    at.text_input(key="pa.allowed").input("contact_form, newsletter, webinar, trade_fair").run()
    assert "-        enum: [contact_form, newsletter, webinar]\n+        enum: [contact_form, newsletter, webinar, " \
           "trade_fair]" in at.code[0].value
    at.button(key="ev.save").click().run()
    text = (kpis_dir / "events.yaml").read_text()
    assert "        description: Which form produced the lead.\n        example: contact_form\n" in text


def test_duplicate_then_retire(editor: AppTest, kpis_dir: Path):
    at = editor.sidebar.button(key="open:leads").click().run()
    at.button(key="act.duplicate").click().run()
    assert at.text_input(key="k.kpi").value == "leads_copy" and not at.text_input(key="k.kpi").disabled
    at.text_input(key="k.kpi").input("webinar_leads").run()
    at.button(key="k.m.one.add").click().run()
    at.selectbox(key="k.m.one.where.0.name").set_value("lead_source").run()
    at.text_input(key="k.m.one.where.0.value").input("webinar").run()
    at.button(key="save.go").click().run()
    copy = (kpis_dir / "leads" / "webinar_leads.yaml").read_text()
    assert "kpi: webinar_leads\ntitle: Leads (copy)\n" in copy
    assert "  count:\n    event: generate_lead\n    where:\n      - {param: lead_source, equals: webinar}\n" in copy
    at.sidebar.button(key="open:leads").click().run()
    at.button(key="act.retire").click().run()
    at.button(key="save.go").click().run()
    text = (kpis_dir / "leads" / "leads.yaml").read_text()
    assert "team: b2b\nstatus: retired\nmeasure:" in text
    assert kpi_validate(str(kpis_dir)).returncode == 0
    assert [b.label for b in at.sidebar.button if b.key == "open:leads"] == ["✓ Leads · retired"]


def test_a_new_kpi_with_an_id_that_is_not_a_valid_name_cannot_be_saved(editor: AppTest, kpis_dir: Path):
    at = fill_about(editor, "../../etc/evil")
    assert any("is not a valid KPI id" in e for e in errors(at))
    assert not any(b.key == "save.go" for b in at.button)
    assert sorted(p.name for p in kpis_dir.rglob("*evil*")) == []
