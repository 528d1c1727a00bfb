"""The real thing: `kpi edit` served on a free port, a KPI created in headless Chromium, the file on disk."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import REPO

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
RENDERED = '[data-testid="stApp"][data-test-script-state="notRunning"][data-test-connection-state="CONNECTED"]'

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium")]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _kpi_command() -> list[str]:
    kpi = shutil.which("kpi")
    return [kpi] if kpi else [sys.executable, "-c", "from kpibridge.cli import main; main()"]


@pytest.fixture
def editor_url(kpis_dir: Path, tmp_path: Path):
    port = _free_port()
    server = subprocess.Popen([*_kpi_command(), "edit", "--kpis", str(kpis_dir), "--db", str(tmp_path / "none.duckdb"),
                               "--port", str(port), "--no-open"],  # the default host: 127.0.0.1
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.read() == b"ok":
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"kpi edit did not start: {server.stderr.read().decode()[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(5)


def _settled(page) -> None:
    page.wait_for_timeout(250)
    page.wait_for_selector(RENDERED, timeout=30_000)


def _type(page, label: str, text: str, area: bool = False) -> None:
    box = page.get_by_role("textbox", name=re.compile(f"^{re.escape(label)}"))
    box.fill(text)
    box.press("Tab" if area else "Enter")
    _settled(page)


def _choose(page, label: str, option: str) -> None:
    page.get_by_role("combobox", name=re.compile(f"^{re.escape(label)}")).click()
    page.keyboard.type(option)  # the list is searchable, and long lists render only what is in view
    page.keyboard.press("Enter")
    _settled(page)


def test_a_kpi_created_in_the_browser_is_written_to_its_objective_folder(editor_url: str, kpis_dir: Path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 2400})
        page.goto(editor_url, wait_until="domcontentloaded")
        page.get_by_role("button", name="Events catalog").wait_for(timeout=30_000)
        _settled(page)
        _type(page, "Id", "trial_sign_ups")
        _type(page, "Title", "Trial sign-ups")
        _type(page, "Description", "Accounts that start a free trial.", area=True)
        _type(page, "Objective", "Grow B2B leads")
        _type(page, "Owner", "b2b-marketing@shop.example")
        _type(page, "Team", "b2b")
        _choose(page, "Event", "sign_up")
        _type(page, "Target value", "40") if page.get_by_role("textbox", name=re.compile("^Target value")).count() else None
        page.get_by_role("button", name="Save", exact=True).click()
        path = kpis_dir / "leads" / "trial_sign_ups.yaml"
        deadline = time.monotonic() + 30
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        _settled(page)
        assert page.get_by_test_id("stException").count() == 0
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "editor-saved.png"))
        browser.close()
    text = path.read_text()
    assert "kpi: trial_sign_ups\ntitle: Trial sign-ups\n" in text
    assert "measure:\n  count: sign_up\n" in text
