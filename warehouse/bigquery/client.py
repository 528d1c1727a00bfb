"""The official `google-cloud-bigquery` client, its credentials, retries and errors in one sentence.

Credentials: a service-account key file when one is configured, else Application Default Credentials
(`gcloud auth application-default login`, `GOOGLE_APPLICATION_CREDENTIALS`, or the machine's account). When
`BIGQUERY_EMULATOR_HOST` is set, the client talks to that endpoint (the client library's own convention) and
we give it anonymous credentials, as that convention expects. Nothing about credentials is ever printed.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from google.api_core import exceptions as gexc

from .settings import BigQuerySettings, human_bytes

if TYPE_CHECKING:
    from google.auth.credentials import Credentials
    from google.cloud import bigquery

T = TypeVar("T")
Announce = Callable[[str], None]

EMULATOR_HOST = "BIGQUERY_EMULATOR_HOST"  # google.cloud.bigquery._helpers.BIGQUERY_EMULATOR_HOST
TRANSIENT_REASONS = {"backendError", "internalError", "rateLimitExceeded", "jobBackendError", "jobInternalError"}


class BigQueryError(RuntimeError):
    """A BigQuery failure as one sentence for the user; nothing was changed locally."""


def make_client(settings: BigQuerySettings) -> bigquery.Client:
    from google.cloud import bigquery

    credentials: Credentials
    try:
        if os.environ.get(EMULATOR_HOST):
            from google.auth.credentials import AnonymousCredentials

            credentials = AnonymousCredentials()
        elif settings.credentials is not None:
            from google.oauth2 import service_account

            credentials = service_account.Credentials.from_service_account_file(str(settings.credentials))
        else:
            import google.auth

            credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/bigquery"])
    except (ValueError, OSError) as exc:
        raise BigQueryError(f"The service-account key file {settings.credentials} could not be read "
                            f"({type(exc).__name__}): download a JSON key for the account again.") from None
    except Exception as exc:  # google.auth.exceptions.DefaultCredentialsError and friends
        if type(exc).__name__ != "DefaultCredentialsError":
            raise
        raise BigQueryError("No Google credentials found: run `gcloud auth application-default login`, or pass "
                            "--credentials KEY.json (or set GOOGLE_APPLICATION_CREDENTIALS).") from None
    return bigquery.Client(project=settings.project, credentials=credentials, location=settings.location)


def with_retries(call: Callable[[], T], what: str, announce: Announce, *, retries: int = 4,
                 first_wait: float = 1.0, max_wait: float = 30.0) -> T:
    """Run `call`, retrying transient BigQuery errors with exponential backoff and jitter, each wait announced."""
    for attempt in range(retries + 1):
        try:
            return call()
        except Exception as exc:  # noqa: BLE001 - classified below; anything else is raised as it is
            if not is_transient(exc) or attempt == retries:
                raise
            wait = min(max_wait, first_wait * 2**attempt) * (0.5 + random.random() / 2)
            announce(f"BigQuery {what}: {_short(exc)}; retrying in {wait:.1f} s "
                     f"(attempt {attempt + 2} of {retries + 1}).")
            time.sleep(wait)
    raise AssertionError("unreachable")


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, gexc.TooManyRequests | gexc.InternalServerError | gexc.BadGateway
                  | gexc.ServiceUnavailable | gexc.GatewayTimeout):
        return True
    if isinstance(exc, gexc.GoogleAPICallError):
        return bool(_reasons(exc) & TRANSIENT_REASONS)
    import requests

    return isinstance(exc, requests.ConnectionError | requests.Timeout)


def explain(exc: BaseException, settings: BigQuerySettings) -> BigQueryError:
    """One sentence naming the project and dataset, for any BigQuery failure that is not ours to retry."""
    reasons = _reasons(exc) if isinstance(exc, gexc.GoogleAPICallError) else set()
    where = settings.where
    if "bytesBilledLimitExceeded" in reasons:
        return BigQueryError(
            f"BigQuery stopped the query in {where}: it would bill more than the limit of "
            f"{human_bytes(settings.max_bytes_billed)} (max_bytes_billed); raise it with --max-bytes-billed "
            "or max_bytes_billed in kpibridge.toml if the dry run's estimate is what you expect.")
    if reasons & {"quotaExceeded", "billingTierLimitExceeded", "billingNotEnabled"}:
        return BigQueryError(f"BigQuery refused the query for {where}: a quota or billing limit was reached "
                             f"({', '.join(sorted(reasons))}); try again later or raise the quota in the "
                             "Google Cloud console.")
    if isinstance(exc, gexc.Forbidden | gexc.Unauthorized) or reasons & {"accessDenied", "unauthorized"}:
        return BigQueryError(f"BigQuery denied access to {where}: the account needs BigQuery Job User on the "
                             "project and BigQuery Data Viewer on the dataset.")
    if isinstance(exc, gexc.NotFound):
        return BigQueryError(f"BigQuery found no {where} (or no events_ tables in it): check --project and "
                             "--dataset (GA4's export dataset is analytics_<property id>).")
    if isinstance(exc, gexc.BadRequest):
        return BigQueryError(f"BigQuery rejected the KPI statement for {where}: {_short(exc)}.")
    if is_transient(exc):
        return BigQueryError(f"BigQuery kept failing for {where} after retrying: {_short(exc)}.")
    if isinstance(exc, gexc.GoogleAPICallError):
        return BigQueryError(f"BigQuery failed for {where}: {_short(exc)}.")
    return BigQueryError(f"Could not reach BigQuery for {where}: {type(exc).__name__}.")


def _reasons(exc: gexc.GoogleAPICallError) -> set[str]:
    return {str(e.get("reason")) for e in (exc.errors or []) if isinstance(e, dict) and e.get("reason")}


def _short(exc: BaseException) -> str:
    if isinstance(exc, gexc.GoogleAPICallError):
        reasons = ", ".join(sorted(_reasons(exc)))
        message = str(exc.message or "").splitlines()[0][:200] if exc.message else ""
        code = f"{exc.code} " if exc.code else ""
        return f"{code}{reasons or type(exc).__name__}" + (f" ({message})" if message else "")
    return type(exc).__name__
