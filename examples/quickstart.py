"""The quickstart from README.md: two workers, an emit, a drain. Run: python examples/quickstart.py"""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path

import conveyor

app = conveyor.App(sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{Path(tempfile.mkdtemp()) / 'quick.db'}")


@app.worker("signup", max_attempts=3)
def signup(event: dict[str, str]) -> str:
    logging.getLogger("shop").warning("new user %s", event["email"])
    conveyor.emit({"to": event["email"], "template": "welcome"}, "send-email")  # a child message
    return "ok"


@app.worker("send-email", concurrency=5, backoff=2.0)
async def send_email(event: dict[str, str], msg: conveyor.Message) -> None:
    print(f"sending {event['template']!r} to {event['to']} (attempt {msg.attempt}, parent {msg.parent_id})")


if __name__ == "__main__":
    app.emit({"email": "ada@example.com"}, "signup")
    print("processed", app.drain(), "messages")
    for name, status in app.status().items():
        print(name, status)
    print("last trace of signup:", app.traces("signup")[0].logs)
