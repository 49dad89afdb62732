"""``conveyor demo``: the demo app (``_demo_app.py``) on SQLite in a temporary folder, a stream of
events, the dashboard."""

from __future__ import annotations

import random
import shutil
import tempfile
import threading
import time
import warnings
from pathlib import Path

import click

import conveyor

from ._demo_app import app
from ._errors import UnknownWorkerWarning

__all__ = ["app", "feed", "run_demo"]

CUSTOMERS = [
    "ada@example.com",
    "grace@example.com",
    "alan@example.com",
    "edsger@example.com",
    "barbara@example.com",
]
PRODUCTS = ["lamp", "desk", "chair", "mug", "poster", "plant"]


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
    web_app = conveyor.App(url)  # the same workers on its own connection, for the web thread
    web_app.registry = app.registry
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
