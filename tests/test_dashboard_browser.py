"""The dashboard in a real browser: start `python -m dashboard`, drive Debian's headless Chromium.

Loads the page, moves a strategy slider, steps the model, and checks that the week counter,
a KPI readout and the chart images change; switches to side-by-side mode and checks the gap
B - A is shown. Skipped only when /usr/bin/chromium is absent (CI installs Debian's chromium).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parent.parent
WAIT = 180_000  # ms: a busy two-core machine renders a frame in seconds, not milliseconds

pytestmark = [pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium "
                                 "(apt-get install chromium)"), pytest.mark.timeout(900)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """`python -m dashboard` on a free port, in its own process group, stopped with all its children."""
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "dashboard", "--port", str(port)], cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 600  # the first start may fetch the page's front-end files with npm
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the dashboard exited with {proc.returncode}:\n{(tmp_path / 'server.log').read_text()}")
            try:
                urllib.request.urlopen(url, timeout=5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"the dashboard did not answer:\n{(tmp_path / 'server.log').read_text()}")
                time.sleep(0.5)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def week(page) -> int:
    return int(page.inner_text(".week-counter").split()[1])


# Widgets update one message at a time, so every check after a click waits for its own element.
def until(page, selector: str, test: str, arg: str | None = None) -> None:
    """Wait until the JS expression `test` holds for the element's text `t` (and `arg`)."""
    text = f"document.querySelector('{selector}')?.innerText ?? ''"
    page.wait_for_function(f"arg => {{ const t = {text}; return {test}; }}", arg=arg, timeout=WAIT)


def wait_for_week(page, n: int) -> None:
    until(page, ".week-counter", f"t.startsWith('Week {n} ')")


def test_page_steps_the_model_and_shows_it_changing(server, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1200})
            page.set_default_timeout(WAIT)
            page.goto(server, timeout=WAIT)
            page.wait_for_selector(".week-counter")
            page.wait_for_selector("img.chart-timeseries")
            assert week(page) == 0
            assert page.inner_text(".kpi-customers .kpi-value") == "–"  # nothing measured yet
            chart = page.get_attribute("img.chart-timeseries", "src")

            label = ".lever-focal-a-automation .v-slider__label"
            assert page.inner_text(label) == "Automation: 0.20"
            thumb = page.locator(".lever-focal-a-automation .v-slider-thumb")
            thumb.focus()
            for _ in range(4):
                thumb.press("ArrowRight")
            until(page, label, "t === 'Automation: 0.40'")

            page.click(".step")
            wait_for_week(page, 1)
            until(page, ".kpi-customers .kpi-value", "/^[0-9,]+$/.test(t)")
            profit = page.inner_text(".kpi-profit_to_date .kpi-value")
            page.wait_for_function("src => document.querySelector('img.chart-timeseries').src !== src", arg=chart)
            network = page.get_attribute("img.chart-network", "src")

            page.click(".step")
            wait_for_week(page, 2)
            page.click(".step")
            wait_for_week(page, 3)
            until(page, ".kpi-profit_to_date .kpi-value", "t !== arg", profit)
            page.wait_for_function("src => document.querySelector('img.chart-network').src !== src", arg=network)
            assert "Week 3 of" in page.inner_text(".week-counter")
            page.screenshot(path=str(tmp_path / "dashboard.png"))

            page.get_by_text("Compare two strategies").click()
            page.wait_for_selector(".events-B")
            wait_for_week(page, 0)
            page.click(".step")
            wait_for_week(page, 1)
            until(page, ".kpi-nps", "t.includes('B − A')")
            page.screenshot(path=str(tmp_path / "dashboard-compare.png"))
        finally:
            browser.close()
