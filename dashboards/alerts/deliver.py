"""Sending alerts: a Slack-compatible incoming webhook, and e-mail over SMTP (STARTTLS, login from the env)."""

from __future__ import annotations

import json
import os
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Sequence
from email.message import EmailMessage

from .evaluate import KpiAlert
from .render import headline, to_slack, to_text
from .settings import AlertSettings

USER_ENV = "KPIBRIDGE_SMTP_USER"
PASSWORD_ENV = "KPIBRIDGE_SMTP_PASSWORD"
TIMEOUT_SECONDS = 20


class DeliveryError(RuntimeError):
    """A message could not be sent; the text says where and why (never a password)."""


def send_webhook(url: str, alerts: Sequence[KpiAlert]) -> None:
    body = json.dumps(to_slack(alerts)).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - a URL the user set
            response.read()
    except urllib.error.HTTPError as error:
        raise DeliveryError(f"the webhook answered {error.code} {error.reason}: "
                            f"{error.read()[:200].decode('utf-8', 'replace')}") from None
    except (urllib.error.URLError, OSError) as error:
        raise DeliveryError(f"the webhook could not be reached: {getattr(error, 'reason', error)}") from None


def build_email(alerts: Sequence[KpiAlert], settings: AlertSettings, to: Sequence[str]) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = headline(alerts)
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(to)
    message.set_content(to_text(alerts) + "\nSent by `kpi alerts` (KPI Bridge).\n")
    return message


def send_email(alerts: Sequence[KpiAlert], settings: AlertSettings, to: Sequence[str]) -> None:
    """One message to every address; STARTTLS unless turned off, login when $KPIBRIDGE_SMTP_USER is set."""
    message = build_email(alerts, settings, to)
    user, password = os.environ.get(USER_ENV), os.environ.get(PASSWORD_ENV)
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS) as smtp:
            smtp.ehlo()
            if settings.smtp_starttls:
                if not smtp.has_extn("starttls"):
                    raise DeliveryError(f"the mail server {where} does not offer STARTTLS; set `starttls = false` "
                                        "in [alerts.email] only for a server on a trusted network")
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if user:
                if password is None:
                    raise DeliveryError(f"{USER_ENV} is set but {PASSWORD_ENV} is not")
                smtp.login(user, password)
            smtp.send_message(message)
    except smtplib.SMTPAuthenticationError:
        raise DeliveryError(f"the mail server {where} refused the login of {user} (check {PASSWORD_ENV})") from None
    except (smtplib.SMTPException, OSError, ssl.SSLError) as error:
        raise DeliveryError(f"the mail server {where} did not take the message: {error}") from None
