# ruff: noqa: E401, E402, E701, E702
"""The README's screenshots of `kpi edit` (run by hand, not a test), on a copy of kpis/ and a loaded warehouse:

    kpi load demo --events 60000 --days 40 --db /tmp/demo/warehouse.duckdb && kpi refresh --db /tmp/demo/warehouse.duckdb
    python tests/editor/screenshots.py /tmp/demo/warehouse.duckdb
"""
import re  # noqa: E401
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).parent))
from test_editor_browser import CHROMIUM_ARGS, RENDERED, _free_port  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
work = Path(tempfile.mkdtemp())
shutil.copytree(REPO / "kpis", work / "kpis")
port = _free_port()
server = subprocess.Popen([sys.executable, "-c", "from kpibridge.cli import main; main()", "edit", "--kpis", str(work / "kpis"),
                           "--db", sys.argv[1], "--port", str(port), "--no-open"], cwd=work)
url = f"http://127.0.0.1:{port}"
for _ in range(150):
    try:
        if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok": break
    except OSError: time.sleep(0.2)
def settled(page):
    page.wait_for_timeout(400); page.wait_for_selector(RENDERED, timeout=60_000)
def shot(page, name, height):
    page.set_viewport_size({"width": 1280, "height": height}); page.wait_for_timeout(1500)
    page.screenshot(path=str(DOCS / name), clip={"x": 0, "y": 0, "width": 1280, "height": height})
try:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        page = b.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(url); page.get_by_role("button", name="Events catalog").wait_for(timeout=60_000); settled(page)
        page.get_by_role("button", name=re.compile("Session conversion rate")).click(); settled(page)
        page.wait_for_selector('[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg', timeout=60_000)
        shot(page, "editor-kpi.png", 1000)
        box = page.get_by_role("textbox", name=re.compile("^Target value")).last
        box.fill("0.04"); box.press("Enter"); settled(page)
        page.get_by_role("heading", name="Save").scroll_into_view_if_needed(); page.wait_for_timeout(800)
        top = page.get_by_role("heading", name="Save").bounding_box()["y"]
        page.screenshot(path=str(DOCS / "editor-save.png"), clip={"x": 330, "y": max(0, top - 20), "width": 950, "height": 620})
        page.get_by_role("button", name=re.compile("Revenue per new user")).click(); settled(page)
        box = page.get_by_role("textbox", name=re.compile("^Formula")); box.fill("revenu / new_users"); box.press("Enter"); settled(page)
        page.set_viewport_size({"width": 1280, "height": 2600}); page.wait_for_timeout(1000)
        y = page.get_by_text("How it is computed").bounding_box()["y"] + 240
        page.screenshot(path=str(DOCS / "editor-validation.png"), clip={"x": 330, "y": max(0, y - 200), "width": 950, "height": 420})
        page.get_by_role("button", name="Events catalog").click(); settled(page)
        page.get_by_role("combobox", name=re.compile("^Event")).click()
        page.keyboard.type("sign_up"); page.keyboard.press("Enter"); settled(page)
        for label, text in (("Param name", "plan"), ("Allowed values", "free, pro"), ("Description", "The plan chosen at sign-up.")):
            box = page.get_by_role("textbox", name=re.compile("^" + label)); box.fill(text); box.press("Enter"); settled(page)
        page.get_by_text("Required on every event").click(); settled(page)
        shot(page, "editor-events.png", 1500)
        b.close()
finally:
    server.terminate(); server.wait(10)
