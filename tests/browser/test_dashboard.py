"""The dashboard in a real browser (Debian's Chromium through Playwright) against ``conveyor run``.

Each test uses its own workers, so they do not depend on each other's order. Every test takes
screenshots; with CONVEYOR_SCREENSHOTS=1 they are saved to docs/screenshots/ (the README links them),
otherwise to a temporary folder, so that a test run leaves the work tree as it was.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

import conveyor

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SHOTS = (
    ROOT / "docs" / "screenshots"
    if os.environ.get("CONVEYOR_SCREENSHOTS") == "1"
    else Path(tempfile.mkdtemp(prefix="conveyor-shots-"))
)
CHROMIUM = "/usr/bin/chromium"

APP = """
import logging
import time
import conveyor

app = conveyor.App()
log = logging.getLogger("shop")
log.setLevel(logging.INFO)

@app.worker("rise")
def rise(event):
    return event

@app.worker("steady", concurrency=1)
def steady(event):
    time.sleep(0.1)
    return {"slept": 0.1}

@app.worker("orders")
def orders(event, msg):
    log.info("order %s for %s", event["order"], event["customer"])
    conveyor.emit({"order": event["order"]}, "rise")
    return {"items": len(event["items"])}

@app.worker("fail", max_attempts=1, backoff=0)
def fail(event):
    raise ConnectionError("SMTP server refused " + str(event.get("to")))
"""


class Server:
    def __init__(self, tmp: Path) -> None:
        script = tmp / "dash_app.py"
        script.write_text(APP)
        self.store = f"sqlite:///{tmp / 'dash.db'}"
        exe = shutil.which("conveyor") or str(Path(sys.executable).parent / "conveyor")
        self.process = subprocess.Popen(
            [
                exe,
                "run",
                str(script),
                "--store",
                self.store,
                "--port",
                "0",
                "--processes",
                "1",
                "--concurrency",
                "8",
                "--grace",
                "2",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()
        assert self.process.stderr is not None
        stderr = self.process.stderr
        threading.Thread(target=lambda: [lines.put(line) for line in stderr], daemon=True).start()
        deadline = time.monotonic() + 30
        seen = []
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            seen.append(line)
            found = re.search(r"dashboard and API on (http://\S+)", line)
            if found:
                self.url = found.group(1)
                break
        else:
            self.stop()
            raise AssertionError(f"conveyor run did not start: {seen}")
        self.app = conveyor.App(self.store)

    def emit(self, event: object, worker: str) -> int:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self.app.emit(event, worker)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if hasattr(self, "app"):
            self.app.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = Server(tmp_path_factory.mktemp("dashboard"))
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert os.path.exists(CHROMIUM), (
        f"{CHROMIUM} is missing: scripts/test installs it (apt-get install chromium)"
    )
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda error: errors.append(str(error)))
    p.goto(server.url)
    expect(p.locator("#live")).to_have_text("live", timeout=10_000)
    try:
        yield p
    finally:
        context.close()
    assert errors == [], errors


def count(page: Page, worker: str, state: str) -> int:
    return int(page.locator(f'#workers tr[data-worker="{worker}"] td[data-count="{state}"]').inner_text())


def cell(page: Page, worker: str, state: str):  # type: ignore[no-untyped-def]
    return page.locator(f'#workers tr[data-worker="{worker}"] td[data-count="{state}"]')


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def test_count_rises_while_paused_and_falls_on_play(page: Page, server: Server) -> None:
    server.app.pause("rise")
    expect(page.locator('#workers tr[data-worker="rise"] .badge.paused')).to_be_visible()
    for n in range(25):
        server.emit({"n": n}, "rise")
        if n == 9:
            expect(cell(page, "rise", "queued")).to_have_text("10", timeout=10_000)
    expect(cell(page, "rise", "queued")).to_have_text("25", timeout=10_000)
    for n in range(3):
        server.emit({"to": f"user{n}@example.com"}, "ghost-mailer")
    server.emit({"order": 7, "customer": "ada@example.com", "items": ["lamp", "mug"]}, "orders")
    expect(page.locator('#unknown tr[data-worker="ghost-mailer"]')).to_be_visible()
    shoot(page, "dashboard.png")
    page.locator('#workers tr[data-worker="rise"] button[data-action="resume"]').click()
    expect(cell(page, "rise", "queued")).to_have_text("0", timeout=20_000)
    expect(page.locator('#workers tr[data-worker="rise"] .badge.ok')).to_be_visible()


def test_pause_stops_processing(page: Page, server: Server) -> None:
    for n in range(40):
        server.emit({"n": n}, "steady")  # 0.1 s each, one at a time: about 4 s of work
    expect(cell(page, "steady", "queued")).not_to_have_text("40", timeout=10_000)
    page.locator('#workers tr[data-worker="steady"] button[data-action="pause"]').click()
    expect(page.locator('#workers tr[data-worker="steady"] .badge.paused')).to_be_visible()
    expect(cell(page, "steady", "running")).to_have_text("0", timeout=10_000)  # the one in flight finishes
    held = count(page, "steady", "queued")
    time.sleep(1.5)
    assert count(page, "steady", "queued") == held > 0
    assert server.app.status()["steady"].queued == held
    page.locator('#workers tr[data-worker="steady"] button[data-action="resume"]').click()
    expect(cell(page, "steady", "queued")).not_to_have_text(str(held), timeout=10_000)
    server.app.purge("steady")


def test_open_a_trace_and_replay_it(page: Page, server: Server) -> None:
    server.emit({"order": 42, "customer": "grace@example.com", "items": ["desk"]}, "orders")
    deadline = time.monotonic() + 10  # the newest trace (opened below) must be this message's
    while not any(t.event.get("order") == 42 for t in server.app.traces("orders")):
        assert time.monotonic() < deadline, "order 42 was not processed"
        time.sleep(0.05)
    page.locator('#workers tr[data-worker="orders"] a').click()
    expect(page).to_have_url(re.compile(r"\?worker=orders$"))
    expect(page.locator("#live")).to_have_text("live", timeout=10_000)
    trace = page.locator("#traces details").first
    expect(trace).to_be_visible(timeout=10_000)
    page.locator("#traces details summary").filter(has_text="ok").first.click()
    body = page.locator("#traces details[open] .trace-body")
    expect(body).to_be_visible()
    expect(body.locator("dt")).to_contain_text(["Event", "Result", "Logs", "Emitted", "Timings"])
    expect(body.locator("pre.event")).to_contain_text('"customer"')
    expect(body).to_contain_text("INFO shop: order 42 for grace@example.com")
    shoot(page, "trace.png")
    before = len(server.app.traces("orders"))
    body.locator('button[data-action="replay"]').click()
    expect(page.locator("#toast")).to_contain_text("emitted message")
    deadline = time.monotonic() + 10
    while len(server.app.traces("orders")) == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(server.app.traces("orders")) > before
    expect(page.locator("#traces details[open]")).to_have_count(1)  # stays open across live updates


def test_retry_a_dead_letter(page: Page, server: Server) -> None:
    message_id = server.emit({"to": "alan@example.com"}, "fail")
    row = page.locator(f'#dead tr[data-id="{message_id}"]')
    expect(row).to_be_visible(timeout=15_000)
    expect(row).to_contain_text("SMTP server refused alan@example.com")
    page.locator('#workers tr[data-worker="fail"] button[data-action="pause"]').click()  # hold the retry
    expect(page.locator('#workers tr[data-worker="fail"] .badge.paused')).to_be_visible()
    shoot(page, "dead-letters.png")
    row.locator('button[data-action="retry"]').click()
    expect(row).to_have_count(0, timeout=10_000)
    expect(cell(page, "fail", "queued")).to_have_text("1", timeout=10_000)
    expect(cell(page, "fail", "dead")).to_have_text("0")
    (message,) = server.app.messages("fail")
    assert message.id == message_id and message.state == "queued"
    server.app.purge("fail")
    server.app.resume("fail")


def test_emit_form_and_event_data_is_text(page: Page, server: Server) -> None:
    server.app.pause("rise")
    page.fill('#emit-form input[name="worker"]', "rise")
    page.fill('#emit-form textarea[name="event"]', '{"html": "<script>window.__pwned = 1</script>"}')
    page.click('#emit-form button[type="submit"]')
    expect(page.locator("#toast")).to_contain_text("emitted message")
    server.emit({"img": '<img src=x onerror="window.__pwned = 2">'}, "rise")
    messages = page.locator("#messages")
    expect(messages).to_contain_text("<script>window.__pwned = 1</script>", timeout=10_000)
    expect(messages).to_contain_text('<img src=x onerror=\\"window.__pwned = 2\\">')
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#messages script, #messages img").count() == 0
    page.fill('#emit-form textarea[name="event"]', "{not json")
    page.click('#emit-form button[type="submit"]')
    expect(page.locator("#toast")).to_contain_text("not valid JSON")
    server.app.purge("rise")
    server.app.resume("rise")


def test_message_page_from_the_list_and_no_policy_violations(page: Page, server: Server) -> None:
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    server.app.pause("rise")
    message_id = server.emit({"note": "<b>kept as text</b>"}, "rise")
    link = page.locator(f'#messages a[href="messages/{message_id}"]')
    expect(link).to_be_visible(timeout=10_000)
    link.click()
    expect(page).to_have_url(re.compile(rf"/messages/{message_id}$"))
    expect(page.locator("#message")).to_contain_text("<b>kept as text</b>")
    expect(page.locator("#message .badge.queued")).to_be_visible()
    page.locator(f'button[data-action="cancel"][data-id="{message_id}"]').click()
    expect(page.locator("#toast")).to_contain_text(f"cancelled message {message_id}")
    assert server.app.message(message_id) is None
    server.app.resume("rise")
    page.goto(server.url)
    expect(page.locator("#live")).to_have_text("live", timeout=10_000)
    assert violations == [], violations
