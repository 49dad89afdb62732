"""Testing workers with the ``conveyor.testing`` plugin (docs/fitting-in.md#testing-your-workers).

Save as ``test_signup.py`` in a project with Conveyor installed and run ``pytest``: the plugin comes with
Conveyor, so ``conveyor_app`` is there without configuration.
"""

from __future__ import annotations

from typing import Any

import pytest

import conveyor
from conveyor.testing import HandlerError, drain, emitted


def define_workers(app: conveyor.App, sent: list[str]) -> None:
    @app.worker("signup")
    def signup(event: dict[str, Any]) -> None:
        conveyor.emit({"to": event["email"]}, "send-welcome")

    @app.worker("send-welcome", max_attempts=1)
    def send_welcome(event: dict[str, str]) -> None:
        if not event["to"].endswith(".com"):
            raise ValueError(f"cannot deliver to {event['to']}")
        sent.append(event["to"])


def test_a_signup_sends_a_welcome(conveyor_app: conveyor.App) -> None:
    sent: list[str] = []
    define_workers(conveyor_app, sent)
    conveyor_app.emit({"email": "ada@example.com"}, "signup")
    assert emitted(conveyor_app, "signup") == [{"email": "ada@example.com"}]
    assert drain(conveyor_app) == 2  # signup, then the welcome it emitted
    assert sent == ["ada@example.com"]


def test_a_handler_error_fails_the_drain(conveyor_app: conveyor.App) -> None:
    define_workers(conveyor_app, [])
    conveyor_app.emit({"email": "ada@example.invalid"}, "signup")
    with pytest.raises(HandlerError, match=r"cannot deliver to ada@example\.invalid"):
        drain(conveyor_app)
