"""The dashboard in a real browser (Debian's Chromium through Playwright) against ``conveyor run``:
every view, charts drawn from the runners' stats, paging and search, live updates, actions.

Each test uses its own workers, so they do not depend on each other's order. The tests take the
screenshots of docs/; with CONVEYOR_SCREENSHOTS=1 (``scripts/screenshots``) they are saved to
docs/screenshots/, otherwise to a temporary folder, so that a test run leaves the work tree as it was.
"""

from __future__ import annotations

import contextlib
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

app = conveyor.App(lease=3)  # heartbeats every second: the runners view follows within 1 s
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

@app.worker("chart", max_attempts=1, backoff=0)
def chart(event):
    if event.get("fail"):
        raise ValueError("failed on purpose")
    time.sleep(event.get("sleep", 0))

@app.worker("held", concurrency=2, max_attempts=7, results=3600)
def held(event):
    return event

@app.worker("slow")
def slow(event):
    time.sleep(event["sleep"])
"""


class Server:
    def __init__(self, tmp: Path, *options: str) -> None:
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
                *options,
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
        self.root = self.url.rstrip("/")

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
    p.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        yield p
    finally:
        context.close()
    assert errors == [], errors


def cell(page: Page, worker: str, state: str):  # type: ignore[no-untyped-def]
    return page.locator(f'#workers tr[data-worker="{worker}"] td[data-count="{state}"]')


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def go(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("#live")).to_have_text("live", timeout=10_000)


def wait_until(check, seconds: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def chart_series(page: Page, chart: str) -> dict[str, object]:
    """What uPlot holds for a chart: its x values, its series' labels and values, and its canvas size."""
    return page.evaluate(  # type: ignore[no-any-return]
        """(id) => {
          const u = document.querySelector(`[data-chart="${id}"]`)._uplot;
          return {x: u.data[0], labels: u.series.slice(1).map(s => s.label), values: u.data.slice(1),
                  width: u.ctx.canvas.width, height: u.ctx.canvas.height};
        }""",
        chart,
    )


def test_navigation_reaches_every_view(page: Page, server: Server) -> None:
    server.app.pause("held")
    server.emit({"order": 7, "customer": "ada@example.com", "items": ["lamp", "mug"]}, "orders")
    for n in range(3):
        server.emit({"to": f"user{n}@example.com"}, "ghost-mailer")
    views = [
        ("Workers", "/workers", "Workers"),
        ("Runners", "/runners", "Runners"),
        ("Schedules", "/schedules", "Schedules"),
        ("Dead letters", "/dead", "Dead letters"),
        ("Unknown (404)", "/unknown", "Unknown workers (404)"),
        ("Messages", "/messages", "Messages"),
        ("Overview", "/", "Overview"),
    ]
    nav = page.get_by_role("navigation", name="Dashboard")
    for link, path, heading in views:
        nav.get_by_role("link", name=link, exact=True).click()
        expect(page).to_have_url(server.root + path)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        expect(nav.get_by_role("link", name=link, exact=True)).to_have_attribute("aria-current", "page")
        expect(page.locator("#live")).to_have_text("live", timeout=10_000)
    expect(page.locator('#workers tr[data-worker="held"] .badge.paused')).to_be_visible()
    held = page.locator('#workers tr[data-worker="held"] a')
    for _ in range(3):  # a live update may replace the table between finding the link and the click
        held.click()
        with contextlib.suppress(AssertionError):
            expect(page).to_have_url(server.root + "/workers/held", timeout=5_000)
            break
    expect(page).to_have_url(server.root + "/workers/held")
    expect(page.get_by_role("heading", level=1)).to_have_text("Worker held")
    expect(nav.get_by_role("link", name="Workers", exact=True)).to_have_attribute("aria-current", "page")
    go(page, server.root + "/unknown")
    expect(page.locator('#unknown tr[data-worker="ghost-mailer"]')).to_contain_text("3")
    # Keyboard: the skip link comes first and every control shows where the focus is.
    go(page, server.root + "/")
    page.keyboard.press("Tab")
    expect(page.locator(".skip")).to_be_focused()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    form = page.locator("#emit-form")
    for role, name in (
        ("combobox", "Worker"),
        ("textbox", "Event (JSON)"),
        ("spinbutton", "Delay (s)"),
        ("textbox", "Key"),
    ):
        expect(form.get_by_role(role, name=name, exact=True)).to_be_visible()  # type: ignore[arg-type]


def test_live_update_within_one_second_of_an_emit(page: Page, server: Server) -> None:
    server.app.pause("held")
    go(page, server.root + "/workers")
    queued = cell(page, "held", "queued")
    expect(queued).to_be_visible()
    for _ in range(3):
        before = server.app.status()["held"].queued
        expect(queued).to_have_text(str(before), timeout=5_000)
        server.emit({"live": True}, "held")
        expect(queued).to_have_text(str(before + 1), timeout=1_000)  # within 1 s of the emit
    go(page, server.root + "/")
    total = page.locator('#totals [data-total="queued"]')
    before = sum(s.queued for s in server.app.status().values())
    expect(total).to_have_text(f"{before:,}", timeout=5_000)
    server.emit({"live": True}, "held")
    expect(total).to_have_text(f"{before + 1:,}", timeout=1_000)
    server.app.purge("held")


def test_overview_charts_draw_the_stats(page: Page, server: Server, browser: Browser) -> None:
    for n in range(24):
        server.emit({"n": n, "fail": n % 4 == 0, "sleep": 0.002 * (n % 5)}, "chart")
    wait_until(lambda: sum(b.processed for b in server.app.stats("chart")) == 24)
    wait_until(lambda: server.app.status()["chart"].running == 0)

    def matches() -> bool:
        totals = {b.minute.timestamp(): b for b in server.app.stats() if b.worker is None}
        mine = {b.minute.timestamp(): b for b in server.app.stats("chart")}
        drawn = {c: chart_series(page, c) for c in ("throughput", "failures", "wait")}
        for chart, field in (("throughput", "processed"), ("failures", "failed"), ("wait", "wait_p95")):
            got = drawn[chart]
            assert got["labels"][0] == "total" and "chart" in got["labels"], got["labels"]  # type: ignore[index, operator]
            x = got["x"]  # type: ignore[assignment]
            total, per_worker = got["values"][0], got["values"][got["labels"].index("chart")]  # type: ignore[index, union-attr]
            want_total = [round(getattr(totals[t], field) or 0, 6) if t in totals else 0 for t in x]  # type: ignore[union-attr]
            want_mine = [round(getattr(mine[t], field) or 0, 6) if t in mine else 0 for t in x]  # type: ignore[union-attr]
            if total != want_total or per_worker != want_mine:
                return False
        return True

    go(page, server.root + "/")
    wait_until(matches, 10)
    throughput = chart_series(page, "throughput")
    chart_values = throughput["values"][throughput["labels"].index("chart")]  # type: ignore[index, union-attr]
    assert sum(chart_values) == 24  # type: ignore[arg-type]
    assert throughput["width"] > 200 and throughput["height"] > 100  # type: ignore[operator]
    failures = chart_series(page, "failures")
    assert sum(failures["values"][failures["labels"].index("chart")]) == 6  # type: ignore[arg-type, index, union-attr]
    expect(page.locator('[data-chart="throughput"] canvas')).to_be_visible()
    expect(page.locator('[data-chart="throughput"]')).to_have_attribute("aria-label", re.compile(r"chart 24"))
    shoot(page, "dashboard.png")
    # The day range: 10-minute steps, the same work.
    page.get_by_role("link", name="Last day").click()
    expect(page).to_have_url(server.root + "/?range=day")
    wait_until(lambda: len(chart_series(page, "throughput")["x"]) >= 144)  # type: ignore[arg-type]
    day = chart_series(page, "throughput")
    assert sum(day["values"][day["labels"].index("chart")]) == 24  # type: ignore[arg-type, index, union-attr]
    # The worker's own page: its chart alone.
    go(page, server.root + "/workers/chart")
    wait_until(lambda: sum(chart_series(page, "throughput")["values"][0]) == 24)  # type: ignore[arg-type, index]
    assert chart_series(page, "throughput")["labels"] == ["chart"]
    # Dark mode follows the system.
    dark = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="dark")
    try:
        p = dark.new_page()
        go(p, server.root + "/")
        background = p.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(18, 21, 27)", background
        wait_until(lambda: sum(chart_series(p, "throughput")["values"][0]) >= 24)  # type: ignore[arg-type, index]
        shoot(p, "dashboard-dark.png")
    finally:
        dark.close()


def test_worker_page_pause_paging_and_search(page: Page, server: Server) -> None:
    server.app.resume("held")
    go(page, server.root + "/workers/held")
    rules = page.locator("#rules")
    expect(rules.locator(".badge.ok")).to_be_visible()
    expect(rules.locator("dl.spec")).to_contain_text("Concurrency2")
    expect(rules.locator("dl.spec")).to_contain_text("Max attempts7")
    expect(rules.locator("dl.spec")).to_contain_text("Results kept1 h 0 min")
    rules.get_by_role("button", name="Pause").click()
    expect(rules.locator(".badge.paused")).to_be_visible()
    assert server.app.status()["held"].paused
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ids = server.app.emit_many(
            [({"n": n, "note": "needle in the hay" if n == 17 else "hay"}, "held") for n in range(120)]
        )
        keyed = server.app.emit({"n": 999}, "held", key="order-77")
    rows = page.locator("#messages tbody tr")
    expect(rules.locator('[data-count="queued"]')).to_have_text("121", timeout=10_000)
    go(page, server.root + "/workers/held")
    seen: list[int] = []
    for size in (50, 50, 21):
        expect(rows).to_have_count(size)
        seen += [int(i) for i in rows.evaluate_all("rs => rs.map(r => r.dataset.id)")]
        if size == 21:
            expect(page.locator('#messages [data-page="next"]')).to_have_count(0)
        else:
            page.locator('#messages [data-page="next"]').click()
            expect(page.locator("#live")).to_have_text("live", timeout=10_000)
    assert seen == [*ids, keyed]
    shoot(page, "worker.png")
    page.locator('#messages [data-page="first"]').click()
    expect(rows).to_have_count(50)

    search = page.get_by_label("Search by id, key or event text")
    for text, expected in (("order-77", keyed), ("needle in", ids[17])):
        search.fill(text)
        search.press("Enter")
        expect(rows).to_have_count(1)
        expect(rows.first).to_have_attribute("data-id", str(expected))
    search.fill(str(ids[42]))  # by id first, then any whose key or event text holds those digits
    search.press("Enter")
    expect(rows.first).to_have_attribute("data-id", str(ids[42]))
    expect(page).to_have_url(re.compile(rf"q={ids[42]}"))
    search.fill("no such thing")
    search.press("Enter")
    expect(page.locator("#messages")).to_contain_text("No messages of held in state queued matching")
    page.get_by_role("combobox", name="State", exact=True).select_option("dead")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"state=dead"))

    page.locator("#rules").get_by_role("button", name="Play").click()
    expect(page.locator("#rules .badge.ok")).to_be_visible()
    assert not server.app.status()["held"].paused
    wait_until(lambda: server.app.status()["held"].queued == 0, 30)


def test_runners_view_shows_what_each_runs(page: Page, server: Server) -> None:
    message_id = server.emit({"sleep": 4}, "slow")
    go(page, server.root + "/runners")
    row = page.locator("#runners tbody tr").first
    expect(row.locator(".badge.ok")).to_have_text("live")
    expect(row.locator(f'a[href$="/messages/{message_id}"]')).to_be_visible(timeout=5_000)
    expect(row.locator("[data-busy]")).to_have_text(re.compile(r"^[1-8]/8$"))
    (runner,) = [r for r in server.app.runners() if r.state == "live"]
    expect(row).to_contain_text(str(runner.host))
    expect(row).to_contain_text(str(runner.pid))
    expect(row.locator("[data-uptime]")).to_have_text(re.compile(r"^\d+ (s|min)$"))
    shoot(page, "runners.png")
    expect(row.locator(f'a[href$="/messages/{message_id}"]')).to_have_count(0, timeout=10_000)


def test_open_a_trace_and_replay_it(page: Page, server: Server) -> None:
    server.emit({"order": 42, "customer": "grace@example.com", "items": ["desk"]}, "orders")
    wait_until(lambda: any(t.event.get("order") == 42 for t in server.app.traces("orders")), 10)
    go(page, server.root + "/workers")
    page.locator('#workers tr[data-worker="orders"] a').click()
    expect(page).to_have_url(server.root + "/workers/orders")
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
    wait_until(lambda: len(server.app.traces("orders")) > before, 10)
    expect(page.locator("#traces details[open]")).to_have_count(1)  # stays open across live updates


def test_retry_a_dead_letter(page: Page, server: Server) -> None:
    message_id = server.emit({"to": "alan@example.com"}, "fail")
    go(page, server.root + "/dead")
    row = page.locator(f'#dead tr[data-id="{message_id}"]')
    expect(row).to_be_visible(timeout=15_000)
    expect(row).to_contain_text("SMTP server refused alan@example.com")
    server.app.pause("fail")  # hold the retry
    shoot(page, "dead-letters.png")
    row.locator('button[data-action="retry"]').click()
    expect(row).to_have_count(0, timeout=10_000)
    (message,) = server.app.messages("fail")
    assert message.id == message_id and message.state == "queued"
    server.app.purge("fail")
    server.app.resume("fail")


def test_pause_stops_processing(page: Page, server: Server) -> None:
    go(page, server.root + "/workers")
    for n in range(40):
        server.emit({"n": n}, "steady")  # 0.1 s each, one at a time: about 4 s of work
    expect(cell(page, "steady", "queued")).not_to_have_text("40", timeout=10_000)
    page.locator('#workers tr[data-worker="steady"] button[data-action="pause"]').click()
    expect(page.locator('#workers tr[data-worker="steady"] .badge.paused')).to_be_visible()
    expect(cell(page, "steady", "running")).to_have_text("0", timeout=10_000)  # the one in flight finishes
    held = int(cell(page, "steady", "queued").inner_text())
    time.sleep(1.5)  # paused: nothing may start in this time
    assert int(cell(page, "steady", "queued").inner_text()) == held > 0
    assert server.app.status()["steady"].queued == held
    shoot(page, "workers.png")
    page.locator('#workers tr[data-worker="steady"] button[data-action="resume"]').click()
    expect(cell(page, "steady", "queued")).not_to_have_text(str(held), timeout=10_000)
    server.app.purge("steady")


def test_emit_form_and_event_data_is_text(page: Page, server: Server) -> None:
    server.app.pause("rise")
    go(page, server.root + "/workers/rise")
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


def test_message_page_from_the_list(page: Page, server: Server) -> None:
    server.app.pause("rise")
    message_id = server.emit({"note": "<b>kept as text</b>"}, "rise")
    go(page, server.root + "/messages")
    link = page.locator(f'#messages a[href$="/messages/{message_id}"]')
    expect(link).to_be_visible(timeout=10_000)
    shoot(page, "messages.png")
    page.get_by_label("Search (id; with a worker: key or event text too)").fill(str(message_id))
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#messages tbody tr")).to_have_count(1)
    link.click()
    expect(page).to_have_url(re.compile(rf"/messages/{message_id}$"))
    expect(page.locator("#message")).to_contain_text("<b>kept as text</b>")
    expect(page.locator("#message .badge.queued")).to_be_visible()
    page.locator(f'button[data-action="cancel"][data-id="{message_id}"]').click()
    expect(page.locator("#toast")).to_contain_text(f"cancelled message {message_id}")
    assert server.app.message(message_id) is None
    server.app.resume("rise")


def test_sign_in_returns_to_the_page_asked_for(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> None:
    token = "browser-sign-in-token-0123"
    guarded = Server(tmp_path_factory.mktemp("guarded"), "--token", token)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        p = context.new_page()
        p.goto(guarded.root + "/workers/held?state=dead")
        expect(p.get_by_role("button", name="Sign in")).to_be_visible()
        expect(p.locator("#rules")).to_have_count(0)  # the form only: no page data before sign-in
        expect(p).to_have_url(re.compile(r"/\?next=%2Fworkers%2Fheld%3Fstate%3Ddead$"))
        p.get_by_label("Token").fill("not-the-token")
        p.get_by_role("button", name="Sign in").click()
        expect(p.locator(".sign-in .error")).to_be_visible()
        p.get_by_label("Token").fill(token)
        p.get_by_role("button", name="Sign in").click()
        expect(p).to_have_url(guarded.root + "/workers/held?state=dead")
        expect(p.locator("#live")).to_have_text("live", timeout=10_000)
        expect(p.locator("#rules")).to_be_visible()
        p.goto(guarded.root + "/dead")  # the cookie opens every page now
        expect(p.locator("#live")).to_have_text("live", timeout=10_000)
    finally:
        context.close()
        guarded.stop()
