"""`kpi load ga4-api` end to end: the real client, a local fake GA4 (fake_ga4.py), the real `kpi` command."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
from collections import Counter
from pathlib import Path

import grpc
import pytest
from fake_ga4 import FakeGA4, shop_records
from google.analytics.data_v1beta.types import RunReportRequest
from typer.testing import CliRunner

from generator.plan.api_plan import ApiPlan, compile_api_plan
from generator.plan.queries import compile_plan
from generator.rules.validate import validate_paths
from kpibridge.cli import app

DAYS = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(3)]
RANGE = ("--start", "2024-01-01", "--end", "2024-01-03")
FAST = ("--max-wait", "0.02", "--timeout", "5")
SECRET = "KPIBRIDGE-TEST-SECRET-d41d8cd98f00b204e980"
EMAIL = "loader@kpibridge-test.iam.gserviceaccount.com"


@pytest.fixture(scope="module")
def api(example_kpis_dir: Path) -> ApiPlan:
    """The Data API plan of the example KPIs: what the loader must run."""
    return compile_api_plan(compile_plan(validate_paths([example_kpis_dir]).catalog))


@pytest.fixture
def fake():
    with FakeGA4(shop_records(DAYS)) as server:
        yield server


@pytest.fixture
def load(fake: FakeGA4, db: Path, example_kpis_dir: Path):
    """Run `kpi load ga4-api` against the fake, in-process; returns the CliRunner result."""
    runner = CliRunner()

    def run(*extra: str, env: dict[str, str] | None = None):
        args = ["load", "ga4-api", "--property", "123456", *RANGE, "--endpoint", fake.endpoint, "--insecure",
                "--kpis", str(example_kpis_dir), "--db", str(db), *FAST, *extra]
        return runner.invoke(app, args, env=env)

    return run


def stored_rows(query, db: Path) -> Counter:
    rows = query(db, "SELECT dimensions, metrics FROM ga4_report_rows")
    return Counter((tuple(sorted(d.items())), tuple(sorted(m.items()))) for d, m in rows)


def served_rows(fake: FakeGA4) -> Counter:
    out: Counter = Counter()
    for s in fake.served:
        dims = [h.name for h in s.response.dimension_headers]
        mets = [h.name for h in s.response.metric_headers]
        for row in s.response.rows:
            d = tuple(sorted(zip(dims, (v.value for v in row.dimension_values), strict=True)))
            m = tuple(sorted(zip(mets, (float(v.value) for v in row.metric_values), strict=True)))
            out[(d, m)] += 1
    return out


def test_rows_stored_are_the_rows_served(load, fake, db, query, api):
    result = load()
    assert result.exit_code == 0, result.output
    assert stored_rows(query, db) == served_rows(fake) and sum(served_rows(fake).values()) > 50
    # exactly the generated requests, in batches of at most 5, each asking for the property quota
    batches = [r for m, r in fake.calls if m == "BatchRunReports"]
    assert [[r.limit for r in b.requests] for b in batches] == [[250_000] * len(b) for b in api.batches()]
    sent = [RunReportRequest.to_json(r) for b in batches for r in b.requests]
    written = [r.to_proto_json("properties/123456", {"startDate": "2024-01-01", "endDate": "2024-01-03"})
               for b in api.batches() for r in b]
    assert sent == [RunReportRequest.to_json(RunReportRequest.from_json(json.dumps(w))) for w in written]
    assert all(r.return_property_quota and r.property == "properties/123456" for b in batches for r in b.requests)
    assert "Loaded" in result.stdout and "Property quota: tokens today" in result.stdout
    assert "Skipped cart_to_purchase_1d" in result.stderr
    audit = query(db, "SELECT source, outcome, start_date, end_date, rows FROM load_audit")
    assert audit == [("ga4_api", "ok", dt.date(2024, 1, 1), dt.date(2024, 1, 3), sum(served_rows(fake).values()))]
    quota = dict(query(db, "SELECT quota, remaining FROM ga4_api_quota"))
    assert quota["tokens_per_day"] == 200_000 - fake.tokens_used


def test_a_429_then_success_waits_and_goes_on(load, fake, db, query):
    fake.fail_next("BatchRunReports", grpc.StatusCode.RESOURCE_EXHAUSTED,
                   "Exhausted concurrent requests quota.")
    result = load()
    assert result.exit_code == 0, result.output
    assert "concurrent requests per property to free up (RESOURCE_EXHAUSTED)" in result.stderr
    assert stored_rows(query, db) == served_rows(fake)


def test_a_503_twice_then_success(load, fake, db, query):
    fake.fail_next("BatchRunReports", grpc.StatusCode.UNAVAILABLE, "The service is currently unavailable.", times=2)
    result = load()
    assert result.exit_code == 0, result.output
    assert result.stderr.count("to become available again (UNAVAILABLE)") == 2
    assert "try 3 of 5" in result.stderr
    assert stored_rows(query, db) == served_rows(fake)


def test_503_past_the_retries_stops_and_loads_nothing(load, fake, db, query):
    fake.fail_next("BatchRunReports", grpc.StatusCode.UNAVAILABLE, "down", times=3)
    result = load("--retries", "2")
    assert result.exit_code == 1
    assert "GA4 stayed unavailable for batch 1 (3 tries)" in result.stderr
    assert "Nothing was loaded; the warehouse is as it was." in result.stderr
    assert query(db, "SELECT count(*) FROM ga4_report_rows") == [(0,)]
    assert query(db, "SELECT outcome FROM load_audit") == [("failed",)]


def test_a_report_paged_over_several_offsets(load, fake, db, query):
    fake.page_rows = 4
    result = load()
    assert result.exit_code == 0, result.output
    offsets = Counter(s.request.offset for s in fake.served)
    assert {0, 4, 8} <= set(offsets)
    assert all(s.request.limit == 250_000 for s in fake.served)  # the generated requests, unchanged
    assert stored_rows(query, db) == served_rows(fake)
    counts = query(db, "SELECT request_id, count(*), any_value(p.row_count) FROM ga4_report_rows "
                       "JOIN ga4_api_reports p USING (request_id, load_id) GROUP BY ALL")
    assert all(n == total for _, n, total in counts)


def test_a_timeout_says_what_to_do(load, fake, db, query):
    fake.stall_seconds = 10
    result = load("--timeout", "0.3", "--retries", "1")
    assert result.exit_code == 1
    assert "GA4 did not answer batch 1 within 0.3 s (2 tries)" in result.stderr
    assert "--timeout" in result.stderr and "Traceback" not in result.output
    assert query(db, "SELECT count(*) FROM ga4_report_rows") == [(0,)]


def test_a_permission_error_names_the_account_and_the_property(load, fake, tmp_path):
    fake.allowed_properties = ("properties/999",)
    key = _fake_key(tmp_path)
    result = load(env={"GOOGLE_APPLICATION_CREDENTIALS": str(key)})
    assert result.exit_code == 1
    assert f"The service account {EMAIL} has no access to properties/123456" in result.stderr
    assert "Property access management" in result.stderr
    assert SECRET not in result.output


def test_daily_quota_is_not_retried_and_says_when_it_resets(load, fake):
    fake.fail_next("BatchRunReports", grpc.StatusCode.RESOURCE_EXHAUSTED,
                   "Exhausted property tokens per day quota. Consumed 200010 tokens in the last day.")
    result = load()
    assert result.exit_code == 1
    assert "quota of tokens per property per day for properties/123456 is used up" in result.stderr
    assert "resets at midnight Pacific time" in result.stderr
    assert "Waiting" not in result.stderr and fake.calls_to("BatchRunReports") == 1


def test_an_unregistered_custom_dimension_skips_its_requests_and_the_others_load(load, fake, db, query, api):
    """Issue 12 §2: the requests needing it are skipped and named (KPIs, how to register); the rest load."""
    fake.custom_dimensions = ("customEvent:lead_source", "customEvent:method", "customEvent:payment_typ")
    result = load()
    assert result.exit_code == 0, result.output
    assert "`customEvent:payment_type` (used by revenue (by param:payment_type)) is not a field" in result.stderr
    assert "register `payment_type` as an event-scoped custom dimension" in result.stderr
    assert "Did you mean `customEvent:payment_typ`?" in result.stderr
    needing = {rid for rid, r in api.requests.items() if "customEvent:payment_type" in r.dimensions}
    assert needing and "Not loaded: request" in result.stdout
    loaded = {r for (r,) in query(db, "SELECT DISTINCT request_id FROM ga4_report_rows")}
    assert loaded and not loaded & needing
    assert len(loaded) == len(api.requests) - len(needing)  # every other request loaded (each has rows)


def test_invalid_argument_names_the_kpi_and_the_field(load, fake):
    fake.rejected_fields = ("customEvent:lead_source",)
    result = load()
    assert result.exit_code == 1
    assert "GA4 rejected the field `customEvent:lead_source` used by KPI leads (by param:lead_source)" in result.stderr
    assert "Field customEvent:lead_source is not a valid dimension" in result.stderr


def test_rerunning_a_range_replaces_its_rows(load, fake, db, query):
    assert load().exit_code == 0
    first = stored_rows(query, db)
    assert load().exit_code == 0
    assert stored_rows(query, db) == first  # no duplicates
    fake.records = shop_records([*DAYS, dt.date(2024, 1, 4)], seed=9)
    result = load("--start", "2024-01-02", "--end", "2024-01-04")
    assert result.exit_code == 0, result.output
    per_day = dict(query(db, "SELECT date, count(DISTINCT load_id) FROM ga4_report_rows GROUP BY date"))
    assert set(per_day) == {*DAYS, dt.date(2024, 1, 4)} and set(per_day.values()) == {1}
    dupes = query(db, "SELECT count(*) FROM (SELECT request_id, dimensions FROM ga4_report_rows "
                      "GROUP BY ALL HAVING count(*) > 1)")
    assert dupes == [(0,)]
    kept = query(db, "SELECT DISTINCT load_id FROM ga4_report_rows WHERE date = '2024-01-01'")
    assert kept == [(2,)]  # Jan 1 is still the second load's


def test_property_comes_from_kpibridge_toml(fake, db, example_kpis_dir, tmp_path, query):
    project = tmp_path / "project"
    shutil.copytree(example_kpis_dir, project / "kpis")
    (project / "kpibridge.toml").write_text(f'[ga4]\nproperty = "777"\nendpoint = "{fake.endpoint}"\n')
    result = CliRunner().invoke(app, ["load", "ga4-api", *RANGE, "--insecure", "--kpis", str(project / "kpis"),
                                      "--db", str(db), *FAST])
    assert result.exit_code == 0, result.output
    assert query(db, "SELECT DISTINCT property FROM ga4_report_rows") == [("properties/777",)]


def test_no_property_anywhere_says_where_to_put_it(db, example_kpis_dir, tmp_path):
    kpis = tmp_path / "kpis"
    shutil.copytree(example_kpis_dir, kpis)
    result = CliRunner().invoke(app, ["load", "ga4-api", "--kpis", str(kpis), "--db", str(db)])
    assert result.exit_code == 2
    assert "pass --property 123456789" in result.stderr and "kpibridge.toml" in result.stderr


def test_a_run_killed_half_way_leaves_the_earlier_data(fake, db, example_kpis_dir, query, spawn_kpi):
    args = ["load", "ga4-api", "--property", "123456", *RANGE, "--endpoint", fake.endpoint, "--insecure",
            "--kpis", str(example_kpis_dir), "--db", str(db), *FAST]
    assert CliRunner().invoke(app, args).exit_code == 0
    before = stored_rows(query, db)
    fake.records = shop_records(DAYS, seed=5)  # new numbers, never committed
    fake.stall_seconds, fake.stall_from_call = 60, fake.calls_to("BatchRunReports") + 2  # the child's 2nd batch
    child = spawn_kpi(*args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert fake.stalled.wait(60), "the child never reached its second batch"
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
        fake.release()
    assert child.returncode == -signal.SIGKILL
    assert stored_rows(query, db) == before
    assert query(db, "SELECT count(*), min(outcome) FROM load_audit") == [(1, "ok")]
    fake.stall_seconds = 0
    fake.served.clear()
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert stored_rows(query, db) == served_rows(fake) != before


def test_the_credential_never_appears_in_output_or_logs(fake, db, example_kpis_dir, tmp_path, spawn_kpi):
    key = _fake_key(tmp_path)
    env = {**os.environ, "GOOGLE_APPLICATION_CREDENTIALS": str(key), "NO_GCE_CHECK": "True",
           "GRPC_VERBOSITY": "DEBUG", "GOOGLE_SDK_PYTHON_LOGGING_SCOPE": "google"}
    common = ["load", "ga4-api", "--property", "123456", *RANGE, "--kpis", str(example_kpis_dir), "--db", str(db),
              *FAST]
    # 1. real credentials path: the key cannot be used, so one plain sentence and no stack trace
    child = spawn_kpi(*common, "--endpoint", "127.0.0.1:9", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                      env=env)
    out, errs = child.communicate(timeout=120)
    assert child.returncode == 1
    assert f"The key file in GOOGLE_APPLICATION_CREDENTIALS ({key}) is not a usable service-account key" in errs
    assert "Traceback" not in errs and SECRET not in out + errs and "PRIVATE KEY" not in out + errs
    # 2. talking to the fake, refused: the e-mail is named, the key is not, nor in the audit log
    fake.allowed_properties = ()
    child = spawn_kpi(*common, "--endpoint", fake.endpoint, "--insecure", stdout=subprocess.PIPE,
                      stderr=subprocess.PIPE, env=env)
    out, errs = child.communicate(timeout=120)
    assert child.returncode == 1 and EMAIL in errs
    assert SECRET not in out + errs and "PRIVATE KEY" not in out + errs
    assert SECRET.encode() not in db.read_bytes()
    for leftover in db.parent.iterdir():
        assert SECRET.encode() not in leftover.read_bytes()


def test_no_credentials_at_all_gets_one_sentence(db, example_kpis_dir, tmp_path, spawn_kpi):
    env = {k: v for k, v in os.environ.items() if k != "GOOGLE_APPLICATION_CREDENTIALS"}
    env.update(NO_GCE_CHECK="True", CLOUDSDK_CONFIG=str(tmp_path / "gcloud"), HOME=str(tmp_path))
    child = spawn_kpi("load", "ga4-api", "--property", "123456", *RANGE, "--kpis", str(example_kpis_dir),
                      "--db", str(db), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    _out, errs = child.communicate(timeout=120)
    assert child.returncode == 1
    assert "No Google credentials were found: set GOOGLE_APPLICATION_CREDENTIALS" in errs
    assert "Traceback" not in errs


def test_caveats_are_stored_for_the_dashboard(load, fake, db, query, api):
    fake.thresholded, fake.sampled = True, (500, 2000)
    result = load()
    assert result.exit_code == 0, result.output
    n = len(api.requests)
    assert f"GA4 flagged reports {n} as thresholded, {n} as sampled of {n}" in result.stdout
    flags = query(db, "SELECT bool_and(subject_to_thresholding), min(sampled_fraction) FROM ga4_api_reports")
    assert flags == [(True, 0.25)]


def test_json_summary(load, api):
    result = load("--format", "json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["property"] == "properties/123456" and summary["requests"] == len(api.requests)
    assert summary["quota"]["tokens_per_day"]["remaining"] > 0
    assert "cart_to_purchase_1d" in summary["skipped"]


def _fake_key(folder: Path) -> Path:
    key = folder / "service-account.json"
    key.write_text(json.dumps({
        "type": "service_account", "project_id": "kpibridge-test", "private_key_id": "0123456789abcdef",
        "private_key": f"-----BEGIN PRIVATE KEY-----\n{SECRET}\n-----END PRIVATE KEY-----\n",
        "client_email": EMAIL, "client_id": "1234567890", "token_uri": "https://oauth2.googleapis.com/token",
    }))
    return key


def test_relative_dates_are_resolved_in_the_property_time_zone(db, example_kpis_dir, query):
    today = dt.datetime.now(dt.UTC).date()  # the fake's property reports in UTC
    days = [today - dt.timedelta(days=n) for n in (3, 2, 1)]
    with FakeGA4(shop_records(days)) as fake:
        result = CliRunner().invoke(app, ["load", "ga4-api", "--property", "1", "--start", "3daysAgo", "--end",
                                          "yesterday", "--endpoint", fake.endpoint, "--insecure", "--kpis",
                                          str(example_kpis_dir), "--db", str(db), *FAST])
    assert result.exit_code == 0, result.output
    assert {d for (d,) in query(db, "SELECT DISTINCT date FROM ga4_report_rows")} == set(days)
    assert query(db, "SELECT start_date, end_date FROM load_audit") == [(days[0], days[-1])]
