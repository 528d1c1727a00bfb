"""Google's Admin API client (default credentials, or plaintext to a local endpoint) and reading a property.

Connects the way `kpi load ga4-api` does (warehouse/sources/ga4_client.py): the same credential lookup and
messages (never quoting a credential), and with `--insecure` a ready plaintext channel, so no credential
is looked up or sent.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from google.analytics.admin_v1beta import AnalyticsAdminServiceClient, CustomDimension, CustomMetric, KeyEvent
from google.analytics.admin_v1beta.services.analytics_admin_service.transports import (
    AnalyticsAdminServiceGrpcTransport,
)

from warehouse.sources.ga4_client import CredentialsProblem, default_credentials, describe_account

from .wanted import Definition

SCOPES = ("https://www.googleapis.com/auth/analytics.edit",)


@dataclass(frozen=True)
class AdminConnection:
    client: AnalyticsAdminServiceClient
    account: str  # "the service account x@y", for messages
    endpoint: str | None

    def close(self) -> None:
        self.client.transport.close()


def connect_admin(endpoint: str | None = None, insecure: bool = False) -> AdminConnection:
    """A client for analyticsadmin.googleapis.com (or `endpoint`); plaintext and credential-free with `insecure`."""
    if insecure:
        if not endpoint:
            raise CredentialsProblem("--insecure needs --endpoint HOST:PORT (the plaintext server to talk to).")
        transport = AnalyticsAdminServiceGrpcTransport(channel=grpc.insecure_channel(endpoint))
        return AdminConnection(AnalyticsAdminServiceClient(transport=transport), describe_account(None), endpoint)
    credentials = default_credentials(SCOPES, "Editor")
    options = {"api_endpoint": endpoint} if endpoint else None
    client = AnalyticsAdminServiceClient(credentials=credentials, client_options=options)
    return AdminConnection(client, describe_account(getattr(credentials, "service_account_email", None)), endpoint)


def read_property(conn: AdminConnection, prop: str, timeout: float) -> list[Definition]:
    """The property's custom dimensions, custom metrics and key events (every page)."""
    c = conn.client
    out = [_dimension(d) for d in c.list_custom_dimensions(parent=prop, timeout=timeout)]
    out += [_metric(m) for m in c.list_custom_metrics(parent=prop, timeout=timeout)]
    out += [_key_event(k) for k in c.list_key_events(parent=prop, timeout=timeout)]
    return out


def _dimension(d: CustomDimension) -> Definition:
    return Definition("custom_dimension", d.parameter_name, CustomDimension.DimensionScope(d.scope).name,
                      d.display_name, d.description, resource=d.name)


def _metric(m: CustomMetric) -> Definition:
    return Definition("custom_metric", m.parameter_name, "EVENT", m.display_name, m.description,
                      CustomMetric.MeasurementUnit(m.measurement_unit).name, resource=m.name)


def _key_event(k: KeyEvent) -> Definition:
    return Definition("key_event", k.event_name, "EVENT",
                      counting_method=KeyEvent.CountingMethod(k.counting_method).name, resource=k.name,
                      deletable=bool(k.deletable))


def create_body(d: Definition) -> CustomDimension | CustomMetric | KeyEvent:
    """The Admin API message that creates `d` (what `build/spec/ga4-admin.json` shows as `admin_api`)."""
    # The enums' lookups by name carry `type: ignore[misc]`: proto-plus is untyped, so mypy cannot see that
    # their metaclass is EnumMeta and reads `Enum[name]` as a generic subscript.
    if d.kind == "custom_dimension":
        return CustomDimension(parameter_name=d.key, display_name=d.display_name, description=d.description,
                               scope=CustomDimension.DimensionScope[d.scope])  # type: ignore[misc]
    if d.kind == "custom_metric":
        unit = d.measurement_unit or "STANDARD"
        return CustomMetric(parameter_name=d.key, display_name=d.display_name, description=d.description,
                            measurement_unit=CustomMetric.MeasurementUnit[unit],  # type: ignore[misc]
                            scope=CustomMetric.MetricScope.EVENT)
    counting = d.counting_method or "ONCE_PER_EVENT"
    return KeyEvent(event_name=d.key, counting_method=KeyEvent.CountingMethod[counting])  # type: ignore[misc]
