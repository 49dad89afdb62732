"""The demo app, what ``conveyor demo`` runs and ``examples/demo_app.py`` names: fan-out, retries
and dead letters, slow async work.

- ``orders`` fans out: each order emits one ``email`` and one ``thumbnail`` per item;
- ``email`` sometimes fails (about one in four attempts) and is retried; a few become dead letters;
- ``thumbnail`` is a slow async worker (0.2 to 1.5 s) capped at 3 running at once across all runners;
- the ``stock-digest`` schedule emits a digest ``email`` to ops every 10 seconds.

``conveyor demo`` also emits now and then to ``legacy-webhook``, which no app defines: a "404".
It lives in the package (not only in ``examples/``) so that ``conveyor demo`` works from an
installed wheel, and runner processes import it as ``conveyor._demo_app:app``.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

import conveyor

__all__ = ["app"]

app = conveyor.App()
log = logging.getLogger("shop")
log.setLevel(logging.INFO)  # handler logs at INFO and above go into each message's trace


@app.worker("orders")
def orders(event: dict[str, Any]) -> dict[str, Any]:
    """Fans out: one confirmation email per order and one thumbnail per item."""
    log.info("order %s for %s: %d item(s)", event["order"], event["customer"], len(event["items"]))
    conveyor.emit({"to": event["customer"], "order": event["order"]}, "email")
    for item in event["items"]:
        conveyor.emit({"order": event["order"], "item": item}, "thumbnail")
    return {"items": len(event["items"])}


@app.worker("email", max_attempts=3, backoff=0.5)
def email(event: dict[str, Any], msg: conveyor.Message) -> str:
    """Sometimes fails: retried with backoff, a dead letter after 3 attempts."""
    if random.random() < 0.25:
        raise ConnectionError(f"SMTP server refused {event['to']} (attempt {msg.attempt})")
    log.info("sent confirmation of order %s to %s", event["order"], event["to"])
    return "sent"


@app.worker("thumbnail", concurrency=3)
async def thumbnail(event: dict[str, Any]) -> dict[str, Any]:
    """Slow and async; at most 3 run at once across every runner and host."""
    seconds = random.uniform(0.2, 1.5)
    await asyncio.sleep(seconds)
    return {"item": event["item"], "pixels": 256 * 256, "seconds": round(seconds, 3)}


app.schedule("stock-digest", "email", event={"to": "ops@example.com", "order": "stock digest"}, every=10)
