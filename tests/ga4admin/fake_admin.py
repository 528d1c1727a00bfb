"""A local GA4 Admin API for tests: a gRPC server Google's real `google-analytics-admin` client talks to.

Built like the Data API fake (tests/grpc_fake.py, ../shared/reference/ga4.md §6.4). It keeps one property's
custom dimensions, custom metrics and key events, answers List (paged), Create, Archive and DeleteKeyEvent
the way GA4 does (archived definitions leave the lists; default key events cannot be deleted), refuses
properties it does not know or may not change, and can fail a method on request. Every call is recorded.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from google.analytics.admin_v1beta import (
    ArchiveCustomDimensionRequest,
    ArchiveCustomMetricRequest,
    CreateCustomDimensionRequest,
    CreateCustomMetricRequest,
    CreateKeyEventRequest,
    CustomDimension,
    CustomMetric,
    DeleteKeyEventRequest,
    KeyEvent,
    ListCustomDimensionsRequest,
    ListCustomDimensionsResponse,
    ListCustomMetricsRequest,
    ListCustomMetricsResponse,
    ListKeyEventsRequest,
    ListKeyEventsResponse,
)
from google.protobuf import empty_pb2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/: also when run as a script (README)
from grpc_fake import serve, unary  # noqa: E402

SERVICE = "google.analytics.admin.v1beta.AnalyticsAdminService"


@dataclass
class FakeAdmin:
    prop: str = "properties/123456"
    dimensions: dict[str, CustomDimension] = field(default_factory=dict)  # resource name → definition
    metrics: dict[str, CustomMetric] = field(default_factory=dict)
    key_events: dict[str, KeyEvent] = field(default_factory=dict)
    read_only: bool = False  # the caller may read the property but not change it (a Viewer)
    page_size: int = 2  # GA4 pages lists; small pages make the client follow next_page_token
    faults: dict[str, tuple[grpc.StatusCode, str]] = field(default_factory=dict)  # method → error, every call
    calls: list[tuple[str, object]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = 100
        self._server: grpc.Server | None = None
        self.port = 0

    # ---- lifecycle ---------------------------------------------------------------------------------
    def start(self, port: int = 0) -> FakeAdmin:
        """Serve on 127.0.0.1 (a free port unless given)."""
        self._server, self.port = serve(SERVICE, {
            "ListCustomDimensions": unary(self._list_dimensions, ListCustomDimensionsRequest,
                                          ListCustomDimensionsResponse),
            "ListCustomMetrics": unary(self._list_metrics, ListCustomMetricsRequest, ListCustomMetricsResponse),
            "ListKeyEvents": unary(self._list_key_events, ListKeyEventsRequest, ListKeyEventsResponse),
            "CreateCustomDimension": unary(self._create_dimension, CreateCustomDimensionRequest, CustomDimension),
            "CreateCustomMetric": unary(self._create_metric, CreateCustomMetricRequest, CustomMetric),
            "CreateKeyEvent": unary(self._create_key_event, CreateKeyEventRequest, KeyEvent),
            "ArchiveCustomDimension": unary(self._archive_dimension, ArchiveCustomDimensionRequest, empty_pb2.Empty),
            "ArchiveCustomMetric": unary(self._archive_metric, ArchiveCustomMetricRequest, empty_pb2.Empty),
            "DeleteKeyEvent": unary(self._delete_key_event, DeleteKeyEventRequest, empty_pb2.Empty),
        }, port)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(grace=0)

    def __enter__(self) -> FakeAdmin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def changes(self) -> list[str]:
        """The methods called that change the property, in order."""
        return [m for m, _ in self.calls if not m.startswith("List")]

    # ---- seeding -----------------------------------------------------------------------------------
    def add_dimension(self, parameter: str, scope: str = "EVENT") -> None:
        name = self._name("customDimensions")
        self.dimensions[name] = CustomDimension(name=name, parameter_name=parameter, display_name=parameter,
                                                scope=CustomDimension.DimensionScope[scope])

    def add_metric(self, parameter: str) -> None:
        name = self._name("customMetrics")
        self.metrics[name] = CustomMetric(name=name, parameter_name=parameter, display_name=parameter,
                                          measurement_unit=CustomMetric.MeasurementUnit.STANDARD,
                                          scope=CustomMetric.MetricScope.EVENT)

    def add_key_event(self, event: str, deletable: bool = True) -> None:
        name = self._name("keyEvents")
        self.key_events[name] = KeyEvent(name=name, event_name=event, deletable=deletable, custom=deletable,
                                         counting_method=KeyEvent.CountingMethod.ONCE_PER_EVENT)

    def _name(self, collection: str) -> str:
        self._ids += 1
        return f"{self.prop}/{collection}/{self._ids}"

    # ---- the service -------------------------------------------------------------------------------
    def _enter(self, method: str, request: object, context: grpc.ServicerContext, parent: str,
               change: bool) -> None:
        with self._lock:
            self.calls.append((method, request))
        if method in self.faults:
            context.abort(*self.faults[method])
        if not parent.startswith(self.prop + "/") and parent != self.prop:
            context.abort(grpc.StatusCode.PERMISSION_DENIED,
                          "User does not have sufficient permissions for this property.")
        if change and self.read_only:
            context.abort(grpc.StatusCode.PERMISSION_DENIED,
                          "The caller does not have permission to edit this property.")

    def _page(self, items: list, request, context: grpc.ServicerContext):  # type: ignore[no-untyped-def]
        start = int(request.page_token or 0)
        size = min(request.page_size or self.page_size, self.page_size)
        following = start + size
        return items[start:following], (str(following) if following < len(items) else "")

    def _list_dimensions(self, request: ListCustomDimensionsRequest, context: grpc.ServicerContext):
        self._enter("ListCustomDimensions", request, context, request.parent, False)
        page, token = self._page(list(self.dimensions.values()), request, context)
        return ListCustomDimensionsResponse(custom_dimensions=page, next_page_token=token)

    def _list_metrics(self, request: ListCustomMetricsRequest, context: grpc.ServicerContext):
        self._enter("ListCustomMetrics", request, context, request.parent, False)
        page, token = self._page(list(self.metrics.values()), request, context)
        return ListCustomMetricsResponse(custom_metrics=page, next_page_token=token)

    def _list_key_events(self, request: ListKeyEventsRequest, context: grpc.ServicerContext):
        self._enter("ListKeyEvents", request, context, request.parent, False)
        page, token = self._page(list(self.key_events.values()), request, context)
        return ListKeyEventsResponse(key_events=page, next_page_token=token)

    def _create_dimension(self, request: CreateCustomDimensionRequest, context: grpc.ServicerContext):
        self._enter("CreateCustomDimension", request, context, request.parent, True)
        d = request.custom_dimension
        if not d.display_name or not d.parameter_name:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "display_name and parameter_name are required")
        if any(x.parameter_name == d.parameter_name and x.scope == d.scope for x in self.dimensions.values()):
            context.abort(grpc.StatusCode.ALREADY_EXISTS, f"{d.parameter_name} already exists")
        name = self._name("customDimensions")
        self.dimensions[name] = CustomDimension(d, name=name)
        return self.dimensions[name]

    def _create_metric(self, request: CreateCustomMetricRequest, context: grpc.ServicerContext):
        self._enter("CreateCustomMetric", request, context, request.parent, True)
        m = request.custom_metric
        if not m.measurement_unit:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "measurement_unit is required")
        name = self._name("customMetrics")
        self.metrics[name] = CustomMetric(m, name=name)
        return self.metrics[name]

    def _create_key_event(self, request: CreateKeyEventRequest, context: grpc.ServicerContext):
        self._enter("CreateKeyEvent", request, context, request.parent, True)
        k = request.key_event
        if not k.counting_method:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "counting_method is required")
        name = self._name("keyEvents")
        self.key_events[name] = KeyEvent(k, name=name, deletable=True, custom=True)
        return self.key_events[name]

    def _archive_dimension(self, request: ArchiveCustomDimensionRequest, context: grpc.ServicerContext):
        self._enter("ArchiveCustomDimension", request, context, request.name, True)
        if self.dimensions.pop(request.name, None) is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"{request.name} not found")
        return empty_pb2.Empty()

    def _archive_metric(self, request: ArchiveCustomMetricRequest, context: grpc.ServicerContext):
        self._enter("ArchiveCustomMetric", request, context, request.name, True)
        if self.metrics.pop(request.name, None) is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"{request.name} not found")
        return empty_pb2.Empty()

    def _delete_key_event(self, request: DeleteKeyEventRequest, context: grpc.ServicerContext):
        self._enter("DeleteKeyEvent", request, context, request.name, True)
        found = self.key_events.get(request.name)
        if found is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"{request.name} not found")
        if not found.deletable:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "this key event cannot be deleted")
        del self.key_events[request.name]
        return empty_pb2.Empty()


def main() -> None:
    """`python tests/ga4admin/fake_admin.py`: a property to try `kpi apply` on (README, "For IT")."""
    import argparse

    parser = argparse.ArgumentParser(description="A local fake GA4 Admin API (plaintext gRPC), property 123456.")
    parser.add_argument("--port", type=int, default=50052)
    args = parser.parse_args()
    fake = FakeAdmin()
    fake.add_key_event("purchase", deletable=False)
    fake.add_dimension("old_campaign_code")
    fake.start(args.port)
    print(f"Fake GA4 Admin API on 127.0.0.1:{fake.port} (property 123456). Ctrl-C stops it.", flush=True)
    try:
        if fake._server is not None:
            fake._server.wait_for_termination()
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
