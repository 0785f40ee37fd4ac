"""The dashboard in a real browser: start `python -m dashboard`, drive Debian's headless Chromium.

Loads the page (its front-end files from the local cache only: any request to the internet
fails the test), moves a strategy slider, steps the model and checks the week counter, a KPI
readout and the client-side charts; plays at 10,000 customers and measures weeks per second;
reloads and finds the same run; starts a lesson preset and checks its verdict; downloads the
chart data as CSV; at 1366x768 and 1920x1080 the KPI charts fit the window without scrolling.
Writes a lesson with `python -m dashboard export` and drives the page from file:// with every
network request failing the test. Screenshots at 1366x768 and 1920x1080 go to dashboard/screenshots/.
Skipped only when /usr/bin/chromium is absent (CI installs Debian's chromium).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from dashboard import charts

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
    url = f"http://localhost:{port}/"
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


SHOTS = ROOT / "dashboard" / "screenshots"
MIN_WEEKS_PER_SECOND = 10


def assert_charts_fit(page) -> None:
    """The KPI charts end inside the window and the page itself does not scroll."""
    bottom, height, scroll = page.evaluate("""() => [
        document.querySelector('.main-chart').getBoundingClientRect().bottom, window.innerHeight,
        document.scrollingElement.scrollHeight]""")
    assert bottom <= height and scroll <= height, (bottom, height, scroll)


def test_page_plays_fast_keeps_its_run_on_reload_and_teaches_a_lesson(server, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
            page = context.new_page()
            page.set_default_timeout(WAIT)
            outside = []
            local = (server, "blob:", "data:")
            page.on("request", lambda r: None if r.url.startswith(local) else outside.append(r.url))
            page.goto(server, timeout=WAIT)
            page.wait_for_selector(".week-counter")
            page.wait_for_selector(".chart-timeseries canvas")
            assert week(page) == 0
            assert "10,000 customers (the scenario's own size)" in page.inner_text(".header")
            assert page.inner_text(".kpi-customers .kpi-value") == "–"  # nothing measured yet

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
            until(page, ".events-A", "t.includes('you raised automation from 0.20 to 0.40 at Focal')")

            page.locator(".rate").click()  # the fastest pace a class would watch: 20 weeks per second
            page.get_by_role("option", name="20", exact=True).click()
            until(page, ".rate", "t.includes('20')")
            page.click(".play")
            until(page, ".week-counter", "Number(t.split(' ')[1]) >= 5")  # timed once playing, not from the click
            start, begun = time.perf_counter(), week(page)
            until(page, ".week-counter", "Number(t.split(' ')[1]) >= 65")
            rate = (week(page) - begun) / (time.perf_counter() - start)
            (tmp_path / "weeks_per_second.txt").write_text(f"{rate:.1f}\n")
            print(f"weeks per second in the browser at 10,000 customers: {rate:.1f}")
            page.click(".play")  # pause
            until(page, ".play", "t.toLowerCase().includes('play')")  # the server has stopped playing
            assert_charts_fit(page)
            SHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SHOTS / "dashboard-1366x768.png"))
            assert rate >= MIN_WEEKS_PER_SECOND, f"{rate:.1f} weeks/s"

            paused = week(page)
            page.reload()
            page.wait_for_selector(".week-counter")
            assert week(page) == paused  # the same run, kept for this browser session

            with page.expect_download() as download:
                page.get_by_text("Chart data (CSV)").click()
            csv = download.value.path().read_text()
            assert csv.startswith("run,week,firm,") and f"A,{paused},Focal," in csv

            page.set_viewport_size({"width": 1920, "height": 1080})
            page.locator(".preset").click()
            page.get_by_role("option", name="incident").click()
            until(page, ".header", "t.startsWith('bakery_recovery · 4,000 customers')")
            page.wait_for_selector(".events-B")
            page.click(".play")
            until(page, ".week-counter", "Number(t.split(' ')[1]) >= 40")
            until(page, ".events-A", "t.includes('an incident hits Bakery')")
            until(page, ".verdict", "t.includes('beat strategy')")
            assert "few staff: Bakery has" in page.inner_text(".staff-note")  # under 5 after the warm-up
            page.wait_for_selector(".chart-gap canvas")
            page.locator(".week-counter").scroll_into_view_if_needed()  # the CSV download scrolled below the charts
            assert_charts_fit(page)
            page.screenshot(path=str(SHOTS / "dashboard-1920x1080.png"))
            assert outside == [], f"the page asked the internet for {outside[:3]}"
        finally:
            browser.close()


def test_an_exported_lesson_works_offline_from_a_file(tmp_path):
    from playwright.sync_api import sync_playwright

    out = tmp_path / "incident.html"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dashboard", "export", "--preset", "incident", "--out", str(out),
                    "--seeds", "2", "--weeks", "40"], cwd=ROOT, check=True, timeout=600)
    print(f"export of 20 runs took {time.perf_counter() - start:.0f} s; page {out.stat().st_size / 1e6:.1f} MB")
    assert out.stat().st_size < 5e6
    data = json.loads(out.read_text().split('id="data">')[1].split("</script>")[0])
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.set_default_timeout(WAIT)
            outside, errors = [], []
            local = ("file:", "data:", "blob:")
            page.on("request", lambda r: None if r.url.startswith(local) else outside.append(r.url))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(out.as_uri())
            page.wait_for_selector("#ts canvas")
            assert page.inner_text("#verdict") == data["verdicts"]["0:0-0|0:4-0"]  # the preset's A and B
            assert "an incident hits Bakery" in page.inner_text("#log-A")
            SHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SHOTS / "export-1366x768.png"))

            page.fill("#axis-B-0", "2")  # B: empathy 0.50, the incident off
            page.fill("#axis-B-1", "1")
            page.select_option("#seed", "1")
            assert page.inner_text("#value-B-0") == "0.50" and page.inner_text("#value-B-1") == "off"
            assert page.inner_text("#verdict") == data["verdicts"]["1:0-0|1:2-1"]
            assert "an incident hits Bakery" not in page.inner_text("#log-B")
            a, b = (data["runs"][k]["kpi"]["profit_to_date"][0] for k in ("1:0-0", "1:2-1"))
            week = charts.payback([y - x for x, y in zip(a, b, strict=True)])
            shown = page.inner_text("#gap-title")
            assert shown.endswith("B has not paid back" if week is None else f"B pays back in week {week}"), shown
            page.fill("#axis-B-0", "0")
            page.fill("#axis-B-1", "0")
            assert "same choice" in page.inner_text("#verdict")
            assert outside == [] and errors == [], (outside, errors)
        finally:
            browser.close()
