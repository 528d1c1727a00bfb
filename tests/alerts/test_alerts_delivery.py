"""Delivery: one webhook message and one e-mail (STARTTLS, login from the environment), each naming the KPI,
its value, target, comparison, owner, dashboard link and why it fired."""

from __future__ import annotations

import email
import email.policy
import json

import pytest
from conftest import TODAY, kpi
from servers import MailServer, Webhook

# What the messages must name, per KPI, read from the JSON report of the same run.
FIELDS = ("title", "value_text", "target_text", "previous_text", "owner", "link")


def report(built) -> list[dict]:
    result = kpi("alerts", "--format", "json", "--db", built.db, "--kpis", built.kpis, "--today", TODAY)
    assert result.exit_code == 1
    return [a for a in json.loads(result.stdout)["alerts"] if a["kpi"]]


@pytest.fixture
def webhook():
    server = Webhook()
    yield server
    server.close()


@pytest.fixture
def mail(tmp_path, monkeypatch):
    server = MailServer(tmp_path, "alerts@shop.example", "s3cret")
    monkeypatch.setenv("SSL_CERT_FILE", str(server.cert))  # trust the test's own certificate
    monkeypatch.setenv("KPIBRIDGE_SMTP_USER", "alerts@shop.example")
    monkeypatch.setenv("KPIBRIDGE_SMTP_PASSWORD", "s3cret")
    yield server
    server.close()


def test_webhook_receives_one_slack_message_naming_every_alert(dropped, webhook):
    alerts = report(dropped)
    result = kpi("alerts", "--db", dropped.db, "--kpis", dropped.kpis, "--today", TODAY, "--webhook", webhook.url)
    assert result.exit_code == 1, result.output
    assert len(webhook.received) == 1
    message = webhook.received[0]
    assert message["type"].startswith("application/json")
    text = message["body"]["text"]
    assert text.startswith(f"KPI alerts: {len(alerts)} KPIs need attention")
    blocks = message["body"]["blocks"]
    assert blocks[0]["type"] == "header" and len(blocks) == 1 + len(alerts)
    for alert, block in zip(alerts, blocks[1:], strict=True):
        section = block["text"]["text"]
        assert f"<{alert['link']}|{alert['title']}>" in section
        for field in ("value_text", "target_text", "previous_text", "owner"):
            assert alert[field] in section, (field, section)
        for reason in alert["reasons"]:
            assert reason["text"].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in section


def test_email_over_starttls_with_login_from_the_environment(dropped, mail, tmp_path):
    alerts = report(dropped)
    project = tmp_path / "project"
    (project / "kpis").mkdir(parents=True)
    (project / "kpibridge.toml").write_text(
        f'[alerts]\ndashboard_url = "https://kpi.shop.example"\n\n[alerts.email]\nhost = "127.0.0.1"\n'
        f'port = {mail.port}\nfrom = "kpi-alerts@shop.example"\n', encoding="utf-8")
    result = kpi("alerts", "--db", dropped.db, "--kpis", project / "kpis", "--today", TODAY,
                 "--email", "growth@shop.example")
    assert result.exit_code == 1, result.output
    assert len(mail.messages) == 1 and mail.logins == ["alerts@shop.example"]
    message = mail.messages[0]
    assert message["tls"] and message["to"] == ["growth@shop.example"]
    assert message["from"] == "kpi-alerts@shop.example"
    parsed = email.message_from_string(message["data"], policy=email.policy.default)
    assert parsed["Subject"] == f"KPI alerts: {len(alerts)} KPIs need attention"
    body = parsed.get_content()
    for alert in alerts:
        assert f"{alert['title']} ({alert['kpi']})" in body
        assert f"https://kpi.shop.example/kpi?kpi={alert['kpi']}" in body  # the project's dashboard URL
        for field in ("value_text", "target_text", "previous_text", "owner"):
            assert alert[field] in body, field
        for reason in alert["reasons"]:
            assert reason["text"] in body


def test_a_refused_login_is_reported_and_the_state_kept(dropped, mail, tmp_path, monkeypatch):
    monkeypatch.setenv("KPIBRIDGE_SMTP_PASSWORD", "wrong")
    state = tmp_path / "state.json"
    project = tmp_path / "project"
    (project / "kpis").mkdir(parents=True)
    (project / "kpibridge.toml").write_text(f'[alerts.email]\nhost = "127.0.0.1"\nport = {mail.port}\n'
                                            'to = ["growth@shop.example"]\n', encoding="utf-8")
    result = kpi("alerts", "--db", dropped.db, "--kpis", project / "kpis", "--today", TODAY, "--state", state)
    assert result.exit_code == 1
    assert "refused the login of alerts@shop.example" in result.stderr
    assert "wrong" not in result.output + result.stderr
    assert mail.messages == [] and not state.exists()
