"""The real thing: `kpi dashboard` served, rendered by headless Chromium, checked and photographed."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date
from pathlib import Path

import expected
import pytest
from fixture_warehouse import DATA_END

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RENDERED = (
    '[data-testid="stApp"][data-test-script-state="notRunning"][data-test-connection-state="CONNECTED"]'
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"
    ),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _kpi_command() -> list[str]:
    kpi = shutil.which("kpi")
    return [kpi] if kpi else [sys.executable, "-c", "from kpibridge.cli import main; main()"]


@pytest.fixture(scope="module")
def dashboard_url(warehouse):
    store = warehouse.path.with_name("warehouse.duckdb")  # the serving file sits beside it
    port = _free_port()
    command = [
        *_kpi_command(),
        "dashboard",
        "--db",
        str(store),
        "--port",
        str(port),
        "--host",
        "127.0.0.1",
        "--no-open",
    ]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
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
                raise RuntimeError(f"dashboard did not start: {server.stderr.read().decode()[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()  # `kpi dashboard` execs Streamlit, so this PID is the server
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(5)


@pytest.fixture(scope="module")
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser.new_page(viewport={"width": 1280, "height": 1000})
        browser.close()


def _screenshot(page, name: str) -> None:
    # Streamlit scrolls inside stMain: grow the viewport to the content to capture all of it.
    height = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": 1280, "height": max(1000, height)})
    page.wait_for_timeout(500)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))
    page.set_viewport_size({"width": 1280, "height": 1000})


def test_overview_in_a_real_browser(dashboard_url, page, warehouse):
    page.goto(dashboard_url, wait_until="domcontentloaded")
    page.wait_for_selector('[data-testid="stMetric"]', timeout=30_000)
    page.wait_for_selector(RENDERED, timeout=30_000)
    # The sparklines (the label is collapsed: the card's title is Markdown above the number, so it wraps).
    page.wait_for_selector(
        '[data-testid="stMetric"] svg, [data-testid="stMetric"] canvas', state="attached", timeout=30_000
    )
    assert page.get_by_test_id("stException").count() == 0

    labels = page.get_by_test_id("stMetricLabel").all_text_contents()
    values = page.get_by_test_id("stMetricValue").all_inner_texts()
    shown = {}
    for label, value in zip(labels, values, strict=True):
        kpi = next(k for k in warehouse.kpis if label.strip().endswith(k.title))
        shown[kpi.kpi_id] = value.strip()
    assert sorted(shown) == sorted(k.kpi_id for k in warehouse.kpis if k.status == "active")
    for kpi_id, value in shown.items():
        want = expected.value(warehouse, kpi_id, date(2026, 10, 1), DATA_END)
        assert value == expected.text(warehouse, kpi_id, want)
    assert "period=28d" in page.url  # the view's state is in the address bar
    _screenshot(page, "dashboard.png")


def test_card_link_opens_the_kpi_page(dashboard_url, page):
    page.goto(f"{dashboard_url}/?period=90d", wait_until="domcontentloaded")
    page.wait_for_selector(RENDERED, timeout=30_000)
    page.get_by_text("Revenue details").click()
    page.wait_for_url("**/kpi?*kpi=revenue*", timeout=30_000)
    page.wait_for_selector('h1:has-text("Revenue")', timeout=30_000)
    page.wait_for_selector(RENDERED, timeout=30_000)
    page.wait_for_selector(
        '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg', timeout=30_000
    )
    assert "period=90d" in page.url
    assert page.get_by_test_id("stException").count() == 0
    _screenshot(page, "dashboard-kpi.png")
