"""Google's own Data API client, built from default credentials or on a plaintext channel to a local endpoint.

Credentials are never printed, logged or stored: a problem with them becomes one plain sentence saying
what to set, and the only thing read from a key file is the service account's e-mail address (for
"who lacks access" messages).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
from google.analytics.data_v1beta import BetaAnalyticsDataClient
from google.analytics.data_v1beta.services.beta_analytics_data.transports import (
    BetaAnalyticsDataGrpcTransport,
)

if TYPE_CHECKING:
    from google.auth.credentials import Credentials

SCOPES = ("https://www.googleapis.com/auth/analytics.readonly",)
KEY_ENV = "GOOGLE_APPLICATION_CREDENTIALS"
ADC_HINT = (f"set {KEY_ENV} to the JSON key file of a service account that has Viewer access to the GA4 "
            "property, or run `gcloud auth application-default login`")


class CredentialsProblem(Exception):
    """No usable Google credentials; the message says what to set (and never quotes the credential)."""


@dataclass(frozen=True)
class Ga4Connection:
    """A ready client and who it acts as (for messages)."""

    client: BetaAnalyticsDataClient
    account: str  # e.g. "the service account loader@p.iam.gserviceaccount.com"
    endpoint: str | None
    insecure: bool


def connect_ga4(endpoint: str | None = None, insecure: bool = False) -> Ga4Connection:
    """A client for analyticsdata.googleapis.com (or `endpoint`); plaintext and credential-free with `insecure`."""
    if insecure:
        if not endpoint:
            raise CredentialsProblem("--insecure needs --endpoint HOST:PORT (the plaintext server to talk to).")
        # A ready channel makes the transport skip credential lookup: nothing is sent in plain text.
        transport = BetaAnalyticsDataGrpcTransport(channel=grpc.insecure_channel(endpoint))
        return Ga4Connection(BetaAnalyticsDataClient(transport=transport), describe_account(None), endpoint, True)
    credentials = _default_credentials()
    options = {"api_endpoint": endpoint} if endpoint else None
    client = BetaAnalyticsDataClient(credentials=credentials, client_options=options)
    return Ga4Connection(client, describe_account(getattr(credentials, "service_account_email", None)),
                         endpoint, False)


def _default_credentials() -> Credentials:
    return default_credentials(SCOPES, "Viewer")


def default_credentials(scopes: tuple[str, ...], role: str) -> Credentials:
    """Google's default credentials for `scopes`; a failure is one sentence naming the GA4 `role` needed."""
    import google.auth

    try:
        credentials, _project = google.auth.default(scopes=list(scopes))
    except Exception:  # any failure gets the same plain sentence: its text may quote the key file
        raise CredentialsProblem(_credentials_sentence(role)) from None
    return credentials


def _credentials_sentence(role: str = "Viewer") -> str:
    path = os.environ.get(KEY_ENV)
    if not path:
        hint = ADC_HINT if role == "Viewer" else ADC_HINT.replace("Viewer", role)
        return f"No Google credentials were found: {hint}."
    if not Path(path).is_file():
        return (f"{KEY_ENV} points at {path}, which does not exist: set it to the JSON key file of a service "
                f"account that has {role} access to the GA4 property.")
    return (f"The key file in {KEY_ENV} ({path}) is not a usable service-account key: download a new JSON key "
            "(Google Cloud console, IAM, Service accounts, Keys) and point the variable at it.")


def describe_account(email: str | None) -> str:
    """`the service account x@y` when known (from the credentials or the key file's `client_email`)."""
    email = email or key_file_email()
    if email:
        return f"the service account {email}"
    return "the Google account of your default credentials"


def key_file_email() -> str | None:
    """The `client_email` of the key file in GOOGLE_APPLICATION_CREDENTIALS, if it has one; nothing else."""
    path = os.environ.get(KEY_ENV)
    if not path:
        return None
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    email = data.get("client_email") if isinstance(data, dict) else None
    return email if isinstance(email, str) and "@" in email else None
