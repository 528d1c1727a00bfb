"""GA4 Data API requests: valid proto JSON, within the API's limits, shared across KPIs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from google.analytics.data_v1beta import BatchRunReportsRequest, RunReportRequest

from generator.ga4.api_names import unknown_api_name
from generator.ga4.limits import API_DIMENSIONS_MAX, API_METRICS_MAX, API_REPORTS_PER_BATCH
from generator.plan.api_plan import api_plan_to_dict, compile_api_plan
from generator.plan.queries import compile_plan
from generator.rules.validate import validate_paths

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def api():
    return compile_api_plan(compile_plan(validate_paths([REPO / "kpis"]).catalog))


def test_every_request_is_accepted_by_the_real_client_types(api):
    manifest = api_plan_to_dict(api)
    for batch in manifest["batches"]:
        parsed = BatchRunReportsRequest.from_json(json.dumps(batch))
        assert len(parsed.requests) <= API_REPORTS_PER_BATCH
        for request in batch["requests"]:
            req = RunReportRequest.from_json(json.dumps(request))
            assert len(req.dimensions) <= API_DIMENSIONS_MAX
            assert 0 < len(req.metrics) <= API_METRICS_MAX
            assert req.dimensions[0].name == "date"
            assert req.return_property_quota


def test_names_are_data_api_names(api):
    for req in api.requests.values():
        for d in req.dimensions:
            assert unknown_api_name(d, "dimension") is None, d
        for m in req.metrics:
            assert unknown_api_name(m, "metric") is None, m


def test_kpis_share_requests(api):
    naive = sum(len(k.request_ids()) for k in api.kpis.values())
    assert len(api.requests) < naive


def test_conversion_within_a_window_is_not_silently_approximated(api):
    conv = api.kpis["cart_to_purchase_1d"]
    assert not conv.expressible and "BigQuery export" in conv.reason and "within 1 day" in conv.reason
    assert api.kpis["revenue_per_new_user"].expressible  # both components come from the API


def test_ratio_slots_point_at_the_right_rows(api):
    k = api.kpis["session_conversion_rate"]
    num, den = k.numerator[""], k.denominator[""]
    assert (num.metric, num.event_name) == ("sessions", "purchase")
    assert (den.metric, den.event_name) == ("sessions", None)
    assert "eventName" in api.requests[num.request_id].dimensions
    assert api.requests[den.request_id].dimension_filter is None
    assert "sessionDefaultChannelGroup" in api.requests[k.numerator["channel"].request_id].dimensions


def test_param_filters_and_breakdowns_use_custom_dimensions(api):
    signups = api.kpis["email_sign_ups"].numerator[""]
    flt = json.dumps(api.requests[signups.request_id].dimension_filter)
    assert "customEvent:method" in flt and '"email"' in flt
    leads = api.kpis["leads"].numerator["param:lead_source"]
    assert "customEvent:lead_source" in api.requests[leads.request_id].dimensions


def test_unknown_names_get_did_you_mean():
    assert "Did you mean `sessions`?" in unknown_api_name("sesions", "metric")
    problem = unknown_api_name("customEvent:plan_tier", "dimension", known={"date", "country"})
    assert "not registered" in problem
