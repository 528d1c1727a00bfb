"""`kpi apply` end to end: the real `kpi` command, Google's real Admin client, a local fake Admin API."""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import pytest
from fake_admin import FakeAdmin
from typer.testing import CliRunner

from kpibridge.cli import app

# What the example KPIs need, read off kpis/ by hand: `leads` breaks down by lead_source, `revenue` by
# payment_type; generate_lead and purchase are key events (kpis/events.yaml).
DIMENSIONS = {"lead_source", "payment_type"}
KEY_EVENTS = {"generate_lead", "purchase"}
SECRET = "KPIBRIDGE-TEST-SECRET-7f3a9"


@pytest.fixture
def fake():
    with FakeAdmin() as server:
        server.add_key_event("purchase", deletable=False)  # GA4 marks purchase as a key event by default
        server.add_dimension("old_campaign_code")  # a leftover no KPI needs
        yield server


@pytest.fixture
def apply(fake: FakeAdmin, example_kpis_dir: Path):
    runner = CliRunner()

    def run(*extra: str, prop: str = "123456"):
        return runner.invoke(app, ["apply", "--property", prop, "--endpoint", fake.endpoint, "--insecure",
                                   "--kpis", str(example_kpis_dir), "--timeout", "10", *extra])

    return run


def state(fake: FakeAdmin) -> tuple[set[str], set[str], set[str]]:
    return ({d.parameter_name for d in fake.dimensions.values()}, {m.parameter_name for m in fake.metrics.values()},
            {k.event_name for k in fake.key_events.values()})


def test_plan_lists_changes_with_kpis_owners_and_quota_and_changes_nothing(fake, apply):
    result = apply()
    assert result.exit_code == 0, result.output
    out = result.output
    assert "+ create event-scoped custom dimension `lead_source` for leads (b2b-marketing@shop.example)" in out
    assert "+ create event-scoped custom dimension `payment_type` for revenue (cfo@shop.example)" in out
    assert "+ create key event `generate_lead` for lead_conversion_rate" in out
    assert "= unchanged key event `purchase` for average_order_value (cfo@shop.example)" in out
    assert "~ keep event-scoped custom dimension `old_campaign_code` (needed by no KPI; --archive" in out
    assert "Quota after it: 1 → 3 / 50 event-scoped custom dimensions; 1 → 2 / 30 key events" in out
    assert "Nothing was changed. Run `kpi apply --yes`" in out
    assert fake.changes() == []


def test_every_page_of_the_property_is_read(fake, apply):
    for i in range(4):
        fake.add_dimension(f"legacy_{i}")  # 5 dimensions: 3 pages of 2
    result = apply()
    assert all(f"~ keep event-scoped custom dimension `legacy_{i}`" in result.output for i in range(4))
    assert [m for m, _ in fake.calls].count("ListCustomDimensions") == 3


def test_apply_creates_what_is_missing_then_a_second_run_changes_nothing(fake, apply):
    result = apply("--yes")
    assert result.exit_code == 0, result.output
    assert "3 changes made in properties/123456" in result.output
    dims, mets, keys = state(fake)
    assert dims == DIMENSIONS | {"old_campaign_code"}  # never archived without --archive
    assert mets == set()
    assert keys == KEY_EVENTS
    created = [req.custom_dimension for m, req in fake.calls if m == "CreateCustomDimension"]
    lead = next(d for d in created if d.parameter_name == "lead_source")
    assert lead.display_name == "Lead source" and lead.scope.name == "EVENT"
    assert "Needed by leads" in lead.description
    key = next(req.key_event for m, req in fake.calls if m == "CreateKeyEvent")
    assert (key.event_name, key.counting_method.name) == ("generate_lead", "ONCE_PER_EVENT")

    fake.calls.clear()
    again = apply("--yes")
    assert again.exit_code == 0, again.output
    assert "nothing to change" in again.output
    assert fake.changes() == []
    assert state(fake) == (DIMENSIONS | {"old_campaign_code"}, set(), KEY_EVENTS)


def test_archive_only_with_the_flag_and_never_a_default_key_event(fake, apply):
    fake.add_key_event("old_signup_click")
    assert apply("--yes").exit_code == 0
    assert "old_signup_click" in state(fake)[2]
    result = apply("--yes", "--archive")
    assert result.exit_code == 0, result.output
    assert "- archive event-scoped custom dimension `old_campaign_code` (needed by no KPI)" in result.output
    assert sorted(fake.changes()) == ["ArchiveCustomDimension", "CreateCustomDimension", "CreateCustomDimension",
                                      "CreateKeyEvent", "DeleteKeyEvent"]
    assert state(fake) == (DIMENSIONS, set(), KEY_EVENTS)


def test_a_property_the_account_may_not_change_is_one_sentence(fake, apply):
    fake.read_only = True
    result = apply("--yes")
    assert result.exit_code == 1
    error = result.output[result.output.index("Error:"):]
    assert "may not change properties/123456 (creating the event-scoped custom dimension" in error
    assert "give it the Editor role in GA4 Admin, Property access management" in error
    assert "Traceback" not in result.output
    assert state(fake)[0] == {"old_campaign_code"}


def test_an_unknown_property_is_refused_before_any_change(fake, apply):
    result = apply("--yes", prop="999")
    assert result.exit_code == 1
    assert "properties/999" in result.output and "Editor role" in result.output
    assert fake.changes() == []


@pytest.mark.parametrize(("code", "words"), [
    (grpc.StatusCode.RESOURCE_EXHAUSTED, "because a quota is used up"),
    (grpc.StatusCode.INVALID_ARGUMENT, "GA4 rejected creating the event-scoped custom dimension `lead_source`"),
])
def test_quota_and_invalid_argument_are_one_sentence(fake, apply, code, words):
    fake.faults["CreateCustomDimension"] = (code, "no")
    result = apply("--yes")
    assert result.exit_code == 1
    assert words in result.output
    assert result.output.count("Error:") == 1 and "Traceback" not in result.output


def test_json_plan(fake, apply):
    result = apply("--format", "json")
    plan = json.loads(result.stdout)
    assert {(s["action"], s["name"]) for s in plan["steps"]} == {
        ("create", "lead_source"), ("create", "payment_type"), ("create", "generate_lead"),
        ("unchanged", "purchase"), ("keep", "old_campaign_code")}


def test_credentials_are_never_printed(tmp_path: Path, example_kpis_dir: Path, monkeypatch):
    key = tmp_path / "key.json"
    key.write_text(json.dumps({"type": "service_account", "private_key": SECRET,
                               "client_email": "admin@kpibridge-test.iam.gserviceaccount.com"}))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    result = CliRunner().invoke(app, ["apply", "--property", "123456", "--kpis", str(example_kpis_dir)])
    assert result.exit_code == 1
    assert SECRET not in result.output
    assert "is not a usable service-account key" in result.output


def test_a_plan_over_the_quota_is_refused_before_any_change(fake, apply):
    for i in range(49):
        fake.add_dimension(f"team_dimension_{i:02d}")  # 50 with old_campaign_code: the standard limit
    result = apply("--yes")
    assert result.exit_code == 1
    assert "50 → 52 / 50 event-scoped custom dimensions (over the limit)" in result.output
    assert "would have 52 event-scoped custom dimensions, over GA4's limit of 50" in result.output
    assert fake.changes() == []
