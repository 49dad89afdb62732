"""Handler control (docs/flow-control.md): Incomplete(delay), snoozes, max_snoozes, Retry(delay), Cancel."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

import pytest

import conveyor


def _seconds_until(when: datetime) -> float:
    return (when - datetime.now(UTC)).total_seconds()


def _drain_until(app: conveyor.App, done: Any, timeout: float = 5.0) -> None:
    """Drain again and again (drain leaves messages due later) until ``done()``."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out"
        app.drain(timeout=timeout)
        time.sleep(0.01)


def test_incomplete_delay_reruns_after_it_with_the_attempt_given_back(app: conveyor.App) -> None:
    runs: list[tuple[float, int, int]] = []

    @app.worker("w", max_attempts=1)
    def handle(event: Any, msg: conveyor.Message) -> str:
        runs.append((time.monotonic(), msg.attempt, msg.snoozes))
        if len(runs) == 1:
            raise conveyor.Incomplete("not yet", delay=0.2)
        return "done"

    mid = app.emit({"n": 1}, "w")
    assert app.drain() == 1
    m = app.message(mid)
    assert m is not None
    assert (m.state, m.attempt, m.snoozes) == ("scheduled", 0, 1)
    assert 0.0 < _seconds_until(m.run_at) <= 0.2
    _drain_until(app, lambda: len(runs) == 2)
    assert [(attempt, snoozes) for _, attempt, snoozes in runs] == [(1, 0), (1, 1)]
    assert 0.19 <= runs[1][0] - runs[0][0] < 1.5
    assert app.message(mid) is None
    ok, incomplete = app.traces("w")
    assert (incomplete.outcome, incomplete.error, incomplete.attempt) == (
        "incomplete",
        "Incomplete: not yet",
        1,
    )
    assert ok.outcome == "ok" and ok.result == "done"


def test_incomplete_without_a_delay_waits_the_apps_incomplete_delay(make_app: Any) -> None:
    app = make_app(incomplete_delay=90)

    @app.worker("w")
    def handle(event: Any) -> None:
        raise conveyor.Incomplete

    mid = app.emit(None, "w")
    assert app.drain() == 1
    m = app.message(mid)
    assert m is not None and (m.state, m.attempt, m.snoozes) == ("scheduled", 0, 1)
    assert 85 <= _seconds_until(m.run_at) <= 90
    assert [m.snoozes for m in app.messages("w")] == [1]


def test_past_max_snoozes_a_message_is_a_dead_letter_that_says_why(app: conveyor.App) -> None:
    seen: list[int] = []

    @app.worker("w", max_snoozes=2, max_attempts=1)
    def handle(event: Any, msg: conveyor.Message) -> None:
        seen.append(msg.snoozes)
        raise conveyor.Incomplete(delay=0)

    mid = app.emit(None, "w")
    app.drain()
    assert seen == [0, 1, 2]
    (dead,) = app.dead("w")
    assert dead.id == mid and dead.attempt == 0 and dead.snoozes == 2
    assert dead.last_error is not None and "max_snoozes (2)" in dead.last_error
    last = app.traces("w")[0]
    assert last.outcome == "incomplete" and last.error == dead.last_error
    # retried from the dead letters: fresh attempts and snoozes
    assert app.retry_dead(id=mid) == 1
    again = app.message(mid)
    assert again is not None and (again.state, again.attempt, again.snoozes) == ("queued", 0, 0)


def test_max_snoozes_zero_makes_the_first_incomplete_a_dead_letter(app: conveyor.App) -> None:
    @app.worker("w", max_snoozes=0)
    def handle(event: Any) -> None:
        raise conveyor.Incomplete(delay=0)

    app.emit(None, "w")
    assert app.drain() == 1
    (dead,) = app.dead("w")
    assert dead.snoozes == 0 and "max_snoozes (0)" in (dead.last_error or "")


def test_retry_delay_uses_an_attempt_and_respects_max_attempts(app: conveyor.App) -> None:
    runs: list[tuple[float, int]] = []

    @app.worker("w", max_attempts=2, backoff=3600)  # the backoff would wait an hour; Retry's delay rules
    def handle(event: Any, msg: conveyor.Message) -> None:
        runs.append((time.monotonic(), msg.attempt))
        raise conveyor.Retry(delay=0.2)

    mid = app.emit(None, "w")
    assert app.drain() == 1
    m = app.message(mid)
    assert m is not None and (m.state, m.attempt, m.snoozes) == ("scheduled", 1, 0)
    assert m.last_error == "Retry"
    assert 0.0 < _seconds_until(m.run_at) <= 0.2
    _drain_until(app, lambda: app.dead("w") != [])
    assert [attempt for _, attempt in runs] == [1, 2]
    assert 0.19 <= runs[1][0] - runs[0][0] < 1.5
    (dead,) = app.dead("w")
    assert dead.attempt == 2 and dead.last_error == "Retry on attempt 2 of 2: attempts exhausted"
    assert [t.outcome for t in app.traces("w")] == ["retry", "retry"]


def test_retry_without_a_delay_follows_the_backoff(app: conveyor.App) -> None:
    @app.worker("w", max_attempts=3, backoff=600)
    def handle(event: Any) -> None:
        raise conveyor.Retry("rate limited")

    mid = app.emit(None, "w")
    assert app.drain() == 1
    m = app.message(mid)
    assert m is not None and m.attempt == 1 and m.last_error == "Retry: rate limited"
    assert 600 * 0.8 - 5 <= _seconds_until(m.run_at) <= 600 * 1.2


def test_cancel_makes_a_dead_letter_at_once(app: conveyor.App) -> None:
    @app.worker("w", max_attempts=5)
    def handle(event: Any) -> None:
        raise conveyor.Cancel("order was deleted")

    mid = app.emit({"order": 7}, "w")
    assert app.drain() == 1
    (dead,) = app.dead("w")
    assert (dead.id, dead.attempt, dead.last_error) == (mid, 1, "order was deleted")
    (trace,) = app.traces("w")
    assert (trace.outcome, trace.error, trace.traceback) == ("cancelled", "order was deleted", None)
    assert app.status()["w"].dead == 1


def test_async_handlers_control_their_messages_too(app: conveyor.App) -> None:
    @app.worker("snooze")
    async def snooze(event: Any) -> None:
        raise conveyor.Incomplete(delay=60)

    @app.worker("cancel")
    async def cancel(event: Any) -> None:
        raise conveyor.Cancel("no longer wanted")

    app.emit(None, "snooze")
    app.emit(None, "cancel")
    assert app.drain() == 2
    (snoozed,) = app.messages("snooze")
    assert snoozed.state == "scheduled" and snoozed.snoozes == 1 and snoozed.attempt == 0
    (dead,) = app.dead("cancel")
    assert dead.last_error == "no longer wanted"


def test_handler_control_is_never_logged_as_an_error(
    app: conveyor.App, caplog: pytest.LogCaptureFixture
) -> None:
    @app.worker("w", max_attempts=1, max_snoozes=1)
    def handle(event: str) -> None:
        if event == "incomplete":
            raise conveyor.Incomplete(delay=0)
        if event == "retry":
            raise conveyor.Retry(delay=0)
        raise conveyor.Cancel("stop")

    for event in ("incomplete", "retry", "cancel"):
        app.emit(event, "w")
    with caplog.at_level(logging.INFO, logger="conveyor.runner"):
        app.drain()
    assert len(app.dead("w")) == 3
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert sum("dead letter" in r.getMessage() for r in caplog.records) == 3


def test_bad_arguments_are_a_clear_value_error(app: conveyor.App) -> None:
    for bad in (-1, float("nan"), "5", True, 10**12):
        with pytest.raises(ValueError, match=r"Incomplete\(delay=\) must be seconds"):
            conveyor.Incomplete(delay=bad)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=r"Retry\(delay=\) must be seconds"):
            conveyor.Retry(delay=bad)  # type: ignore[arg-type]
    for reason in ("", "  ", None, 3):
        with pytest.raises(ValueError, match="Cancel needs a reason"):
            conveyor.Cancel(reason)  # type: ignore[arg-type]
    for max_snoozes in (-1, True, 1.5, "3"):
        with pytest.raises(ValueError, match="max_snoozes must be an int >= 0"):
            app.worker("w", max_snoozes=max_snoozes)(lambda event: None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="max_snooze"):
        app.worker("w", max_snooze=3)(lambda event: None)  # type: ignore[call-arg]
    assert "w" not in app.registry
