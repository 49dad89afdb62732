"""Hostile input through the Python API: refused with one clear error, or stored verbatim and inert."""

from __future__ import annotations

from typing import Any

import pytest

import conveyor

SQL = "x'); DROP TABLE messages; --"
HOSTILE_STRINGS = [
    SQL,
    "<script>alert(1)</script>",
    "nul\x00byte",
    "\u202e\ufeffbidi",
    "😀" * 50,
    "%s %(x)s {0}",
]


@pytest.fixture
def app(make_app):  # type: ignore[no-untyped-def]
    app = make_app()
    seen: list[Any] = []
    app.seen = seen  # type: ignore[attr-defined]

    @app.worker("w")
    def handle(event: Any) -> Any:
        seen.append(event)
        return event

    return app


@pytest.mark.parametrize("name", [SQL, "<script>", "a\x00b", "../../etc/passwd", " w", "w\n", "a" * 10_000])
def test_hostile_worker_names_are_refused_and_nothing_is_stored(app: conveyor.App, name: str) -> None:
    with pytest.raises(ValueError, match="invalid worker name"):
        app.emit({}, name)
    for call in (app.pause, app.purge, app.traces, app.unblock):
        with pytest.raises(ValueError, match="invalid worker name"):
            call(name)
    assert app.messages() == []
    assert set(app.status()) == {"w"}


@pytest.mark.parametrize("text", HOSTILE_STRINGS)
def test_hostile_event_strings_are_stored_verbatim_and_inert(app: conveyor.App, text: str) -> None:
    event = {text: [text, {"nested": text}]}
    key = text.replace("\x00", "")  # keys and reasons are text columns: NUL is refused there (below)
    mid = app.emit(event, "w", key=key)
    (message,) = app.messages()
    assert message.id == mid and message.event == event and message.key == key
    assert app.drain() == 1
    assert app.seen == [event]  # type: ignore[attr-defined]
    (trace,) = app.traces("w")
    assert trace.event == event and trace.result == event
    app.block("w", key)  # a reason is data too
    assert app.status()["w"].blocked == key


def test_nul_in_a_key_or_reason_is_refused(app: conveyor.App) -> None:
    with pytest.raises(ValueError, match="without NUL"):
        app.emit({}, "w", key="a\x00b")
    with pytest.raises(ValueError, match="without NUL"):
        app.block("w", "a\x00b")
    assert app.messages() == [] and app.status()["w"].blocked is None


def test_lone_surrogates_are_refused_naming_where(app: conveyor.App) -> None:
    with pytest.raises(TypeError, match=r"event\['a'\]\[1\]: str has a lone surrogate at index 1"):
        app.emit({"a": [1, "x\ud800"]}, "w")
    with pytest.raises(TypeError, match=r"event: dict key 'k\\udfff' has a lone surrogate at index 1"):
        app.emit({"k\udfff": 1}, "w")
    with pytest.raises(ValueError, match="without NUL or lone surrogates"):
        app.emit({}, "w", key="k\ud800")
    with pytest.raises(ValueError, match="without NUL or lone surrogates"):
        app.block("w", "r\udfff")
    assert app.messages() == [] and app.status()["w"].blocked is None


def test_deep_or_self_containing_events_are_refused_naming_the_limit(app: conveyor.App) -> None:
    deep: object = None
    for _ in range(1000):
        deep = [deep]
    with pytest.raises(ValueError, match="nested deeper than 254 levels"):
        app.emit(deep, "w")
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(ValueError, match=r"event\[0\]: the list contains itself.*at most 254 levels"):
        app.emit(loop, "w")
    with pytest.raises(
        TypeError, match=r"event\['n'\]: int 18446744073709551616 is outside the 64-bit range"
    ):
        app.emit({"n": 2**64}, "w")
    assert app.messages() == []


def test_ten_megabyte_event_is_refused_and_nothing_is_stored(app: conveyor.App) -> None:
    with pytest.raises(ValueError, match=r"event is 10,485,762 bytes as JSON, over the limit of 1,048,576"):
        app.emit("x" * (10 * 1024 * 1024), "w")
    assert app.messages() == []
