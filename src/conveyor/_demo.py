"""``conveyor demo``: an example app on SQLite in a temporary folder, a stream of events, the dashboard.

The workers (the same as ``examples/demo_app.py``):

- ``orders`` fans out: each order emits one ``email`` and one ``thumbnail`` per item;
- ``email`` sometimes fails (about one in four attempts) and is retried; a few become dead letters;
- ``thumbnail`` is a slow async worker (0.2 to 1.5 s) capped at 3 running at once across all runners;
- now and then an event goes to ``legacy-webhook``, which no app defines: it shows up as a "404".
"""

from __future__ import annotations

import asyncio
import logging
import random
import shutil
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import click

import conveyor

from ._errors import UnknownWorkerWarning

__all__ = ["app", "build_app", "feed", "run_demo"]

log = logging.getLogger("shop")
log.setLevel(logging.INFO)  # handler logs at INFO and above go into each message's trace
CUSTOMERS = [
    "ada@example.com",
    "grace@example.com",
    "alan@example.com",
    "edsger@example.com",
    "barbara@example.com",
]
PRODUCTS = ["lamp", "desk", "chair", "mug", "poster", "plant"]


def build_app(store: str | None = None) -> conveyor.App:
    """The demo's App: three workers that show fan-out, retries and dead letters, and slow async work."""
    app = conveyor.App(store)

    @app.worker("orders")
    def orders(event: dict[str, Any]) -> dict[str, Any]:
        log.info("order %s for %s: %d item(s)", event["order"], event["customer"], len(event["items"]))
        conveyor.emit({"to": event["customer"], "order": event["order"]}, "email")
        for item in event["items"]:
            conveyor.emit({"order": event["order"], "item": item}, "thumbnail")
        return {"items": len(event["items"])}

    @app.worker("email", max_attempts=3, backoff=0.5)
    def email(event: dict[str, Any], msg: conveyor.Message) -> str:
        if random.random() < 0.25:
            raise ConnectionError(f"SMTP server refused {event['to']} (attempt {msg.attempt})")
        log.info("sent confirmation of order %s to %s", event["order"], event["to"])
        return "sent"

    @app.worker("thumbnail", concurrency=3)
    async def thumbnail(event: dict[str, Any]) -> dict[str, Any]:
        seconds = random.uniform(0.2, 1.5)
        await asyncio.sleep(seconds)
        return {"item": event["item"], "pixels": 256 * 256, "seconds": round(seconds, 3)}

    return app


app = build_app()
"""The demo app at module level, so that runner processes can import it (``conveyor._demo:app``)."""


def feed(app: conveyor.App, rate: float, stop: threading.Event) -> int:
    """Emit about ``rate`` events per second until ``stop`` is set; return how many."""
    count = 0
    while not stop.wait(random.expovariate(rate)):
        count += 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnknownWorkerWarning)
            if count % 25 == 0:
                app.emit({"hook": "order.created", "order": 1000 + count}, "legacy-webhook")
                continue
            items = random.sample(PRODUCTS, random.randint(1, 3))
            app.emit({"order": 1000 + count, "customer": random.choice(CUSTOMERS), "items": items}, "orders")
    return count


def run_demo(
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    rate: float = 4.0,
    seconds: float | None = None,
    token: str = "",
    processes: int = 1,
) -> None:
    """Run the demo until Ctrl-C (or ``seconds``): workers, a feed of events, and the dashboard."""
    from ._web import WebServer, check_bind

    check_bind(host, token)
    folder = Path(tempfile.mkdtemp(prefix="conveyor-demo-"))
    url = f"sqlite:///{folder / 'demo.db'}"
    app.use_store(url)
    web_app = build_app(url)  # its own connection for the web thread
    server = WebServer(web_app, host, port, token)
    try:
        server.start()
    except OSError as error:
        shutil.rmtree(folder, ignore_errors=True)
        raise click.ClickException(
            f"cannot serve on {host}:{port}: {error.strerror or error} (try --port 0)"
        ) from None
    stop = threading.Event()
    feeder = threading.Thread(target=feed, args=(app, rate, stop), name="conveyor-demo-feed", daemon=True)
    feeder.start()
    timer = None
    if seconds is not None:
        import os
        import signal

        timer = threading.Timer(seconds, lambda: os.kill(os.getpid(), signal.SIGTERM))
        timer.daemon = True
        timer.start()
    click.echo(f"Conveyor demo: open {server.url}", err=False)
    click.echo(f"  store {url}; emitting about {rate:g} events/s; Ctrl-C to stop", err=True)
    started = time.monotonic()
    try:
        app.run(processes=processes, concurrency=20, grace=3.0)
    finally:
        stop.set()
        if timer is not None:
            timer.cancel()
        feeder.join(5)
        server.stop()
        app.close()
        web_app.close()
        shutil.rmtree(folder, ignore_errors=True)
        click.echo(f"conveyor demo: stopped after {time.monotonic() - started:.0f} s", err=True)
