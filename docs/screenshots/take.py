"""Photograph the dashboard for the README: `python docs/screenshots/take.py URL` with `kpi dashboard` running
on the demo data (`kpi demo --no-serve && kpi dashboard --no-open`). Uses Debian's /usr/bin/chromium."""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
RENDERED = '[data-testid="stApp"][data-test-script-state="notRunning"][data-test-connection-state="CONNECTED"]'
HERE = Path(__file__).parent


def shoot(page, url: str, out: Path, height: int, charts: bool = False) -> None:
    page.set_viewport_size({"width": 1400, "height": height})
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector('[data-testid="stMetric"]', timeout=60_000)
    page.wait_for_selector(RENDERED, timeout=60_000)
    if charts:
        page.wait_for_selector('[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg',
                               timeout=60_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(out))


def main(url: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
        page = browser.new_page(device_scale_factor=1)
        shoot(page, url, HERE / "overview.png", 1250)
        shoot(page, f"{url}/kpi?kpi=leads&compare=previous", HERE / "kpi-page.png", 1500, charts=True)
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"))
