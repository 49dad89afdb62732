"""The demo app (what `conveyor demo` runs): fan-out, retries and dead letters, slow async work.

Run it yourself:

    conveyor run examples/demo_app.py --store sqlite:///demo.db
    conveyor emit orders '{"order": 1, "customer": "ada@example.com", "items": ["lamp", "mug"]}' --store sqlite:///demo.db

and open http://127.0.0.1:8765/.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

import conveyor

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
