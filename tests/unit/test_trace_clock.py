"""Trace durations are measured on one clock even when the store's clock is not this host's.

A PostgreSQL store stamps ``started_at`` with the server's clock; the runner's host may be seconds
off. The trace's ``finished_at`` is put on the same clock, so that a duration is never negative and
never carries the skew. Here a real SQLite store is wrapped so that its claims look stamped by a
clock one hour ahead (or behind)."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest

import conveyor
from conveyor._runtime._handed import clock_skew as _skew


class _SkewedClaims:
    """The app's store, with every claim's ``started_at`` moved by ``shift`` seconds."""

    def __init__(self, store: Any, shift: float) -> None:
        self._store = store
        self._shift = shift

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def _moved(self, claimed: list[Any]) -> list[Any]:
        return [dataclasses.replace(c, started_at=c.started_at + self._shift) for c in claimed]

    def claim(self, *args: Any) -> list[Any]:
        return self._moved(self._store.claim(*args))

    def settle_and_claim(self, *args: Any) -> list[Any]:
        return self._moved(self._store.settle_and_claim(*args))


@pytest.mark.parametrize("shift", [3600.0, -3600.0])
def test_a_trace_duration_is_the_handlers_whatever_the_stores_clock(shift: float) -> None:
    app = conveyor.App("sqlite:///:memory:")

    @app.worker("w")
    def handle(event: Any) -> None:
        time.sleep(0.05)

    app.emit({}, "w")
    app._store = _SkewedClaims(app.store, shift)  # type: ignore[assignment]
    assert app.drain() == 1
    (trace,) = app.traces("w")
    duration = (trace.finished_at - trace.started_at).total_seconds()
    assert 0.05 <= duration < 2.0, duration
    app.close()


def test_skew_is_what_lies_outside_the_claims_round_trip() -> None:
    assert _skew(10.5, issued=10.0, answered=11.0) == 0.0  # same clock: stamped during the call
    assert _skew(3611.0, issued=10.0, answered=11.0) == 3600.0
    assert _skew(-3590.0, issued=10.0, answered=11.0) == -3600.0
