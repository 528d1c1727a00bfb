"""GA4 Admin API refusals as one sentence each: who lacks which role, which quota, which definition and why."""

from __future__ import annotations

from google.api_core import exceptions as gexc

from warehouse.sources.ga4_client import ADC_HINT


class AdminError(Exception):
    """`kpi apply` cannot go on; the message says what is wrong and what to do."""


def explain(exc: BaseException, account: str, prop: str, what: str, endpoint: str | None = None) -> str:
    """One sentence for an Admin API error while doing `what` ("reading the property", "creating …")."""
    said = str(getattr(exc, "message", None) or exc).strip().rstrip(".")
    quoted = f" (GA4 said: {said}.)" if said else ""
    if isinstance(exc, gexc.PermissionDenied | gexc.Forbidden):
        if "not been used" in said or "disabled" in said.lower():
            return (f"The Google Analytics Admin API is not enabled for the Google Cloud project of {account}: "
                    f"enable it in the Cloud console (APIs & Services) and run this again.{quoted}")
        verb = "may not read" if what.startswith("reading") else "may not change"
        return (f"{account[:1].upper()}{account[1:]} {verb} {prop} ({what}): give it the Editor role in GA4 "
                f"Admin, Property access management (or check the property id).{quoted}")
    if isinstance(exc, gexc.Unauthenticated):
        return f"Google did not accept the credentials of {account}: {ADC_HINT.replace('Viewer', 'Editor')}."
    if isinstance(exc, gexc.ResourceExhausted | gexc.TooManyRequests):
        return (f"GA4 refused {what} because a quota is used up (the property's limit of custom definitions, or "
                f"the Admin API's requests per day for this project): free a slot with --archive or run this "
                f"again tomorrow.{quoted}")
    if isinstance(exc, gexc.InvalidArgument | gexc.BadRequest | gexc.FailedPrecondition):
        return (f"GA4 rejected {what}: fix the name or description in kpis/ (run `kpi validate`) or in GA4 "
                f"Admin, then run `kpi apply` again.{quoted}")
    if isinstance(exc, gexc.NotFound):
        return f"GA4 has no {prop}: check the property id (GA4 Admin, Property details).{quoted}"
    if isinstance(exc, gexc.ServiceUnavailable | gexc.DeadlineExceeded | gexc.InternalServerError):
        where = f" at {endpoint}" if endpoint else ""
        return f"The GA4 Admin API{where} did not answer while {what}: run `kpi apply` again later.{quoted}"
    if isinstance(exc, gexc.MethodNotImplemented):
        return f"The server at {endpoint or 'the endpoint'} does not implement the GA4 Admin API.{quoted}"
    code = getattr(exc, "grpc_status_code", None) or getattr(exc, "code", "")
    return f"GA4 refused {what} ({getattr(code, 'name', code)}).{quoted}"
