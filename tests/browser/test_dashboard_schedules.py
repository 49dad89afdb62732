"""The dashboard's schedules section in a real browser (Debian's Chromium through Playwright) against
``conveyor run`` of an app with a demo-like schedule: listed with its last and next run, paused with
the Pause button and played again, live."""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

import conveyor

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
SHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("CONVEYOR_SCREENSHOTS") == "1"
    else Path(os.environ.get("TMPDIR", "/tmp")) / "conveyor-shots"
)

APP = """
import conveyor

app = conveyor.App()

@app.worker("email")
def email(event):
    return "sent"

app.schedule("digest", "email", event={"to": "ops@example.com"}, every=1)
app.schedule("nightly-report", "email", cron="0 3 * * *", tz="Europe/Paris", misfire="skip")
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, conveyor.App]]:
    tmp = tmp_path_factory.mktemp("schedules")
    (tmp / "sched_app.py").write_text(APP)
    store = f"sqlite:///{tmp / 'dash.db'}"
    exe = shutil.which("conveyor") or str(Path(sys.executable).parent / "conveyor")
    process = subprocess.Popen(
        [exe, "run", str(tmp / "sched_app.py"), "--store", store, "--port", "0", "--processes", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stderr is not None
    stderr = process.stderr

    def pump() -> None:
        for line in stderr:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    app = conveyor.App(store)
    try:
        deadline = time.monotonic() + 30
        seen: list[str] = []
        url = None
        while url is None:
            assert time.monotonic() < deadline, f"conveyor run did not start: {seen}"
            try:
                seen.append(lines.get(timeout=0.2))
            except queue.Empty:
                continue
            found = re.search(r"dashboard and API on (http://\S+)", seen[-1])
            url = found.group(1) if found else None
        yield url, app
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        app.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert os.path.exists(CHROMIUM), f"{CHROMIUM} is missing: scripts/test installs it"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Browser, server: tuple[str, conveyor.App]) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda error: errors.append(str(error)))
    p.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    p.goto(server[0].rstrip("/") + "/schedules")
    expect(p.locator("#live")).to_have_text("live", timeout=10_000)
    try:
        yield p
    finally:
        context.close()
    assert errors == [], errors


def test_schedules_listed_paused_and_played(page: Page, server: tuple[str, conveyor.App]) -> None:
    app = server[1]
    section = page.locator("#schedules")
    expect(section).to_be_visible(timeout=10_000)
    digest = section.locator('tr[data-schedule="digest"]')
    expect(digest).to_contain_text("every 1 s")
    expect(digest).to_contain_text("UTC")
    nightly = section.locator('tr[data-schedule="nightly-report"]')
    expect(nightly).to_contain_text("0 3 * * *")
    expect(nightly).to_contain_text("Europe/Paris")
    expect(nightly.locator('td[data-time="last"]')).to_have_text("never")
    expect(digest.locator('td[data-time="last"]')).not_to_have_text("never", timeout=10_000)  # it ticks, live
    next_run = digest.locator('td[data-time="next"]').inner_text()
    assert datetime.strptime(next_run, "%Y-%m-%d %H:%M:%S.%f").year == datetime.now(UTC).year
    shoot(page, "schedules.png")

    digest.locator('button[data-action="pause-schedule"]').click()
    expect(page.locator("#toast")).to_contain_text("schedule digest paused")
    expect(digest.locator(".badge.paused")).to_be_visible(timeout=10_000)
    assert {s.name: s.paused for s in app.schedules()}["digest"] is True
    time.sleep(1.2)  # a tick emitted as the pause landed shows up by now
    last = digest.locator('td[data-time="last"]').inner_text()
    time.sleep(2.5)  # paused: no tick
    expect(digest.locator('td[data-time="last"]')).to_have_text(last)

    digest.locator('button[data-action="resume-schedule"]').click()
    expect(page.locator("#toast")).to_contain_text("schedule digest resumed")
    expect(digest.locator(".badge.ok")).to_be_visible(timeout=10_000)
    expect(digest.locator('td[data-time="last"]')).not_to_have_text(last, timeout=10_000)
    assert not any(s.paused for s in app.schedules())


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)
