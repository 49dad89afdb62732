"""Typed events (docs/typed-events.md): handlers annotated with a pydantic model or a dataclass get an
instance; emits to them are checked (a ValueError naming the field, nothing written); a stored event that
no longer fits is a dead letter at once, with the same text in its trace. Every store.

This module uses ``from __future__ import annotations``: every annotation below is a string, resolved at
``@app.worker``."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

import pydantic
import pytest

import conveyor


class Size(pydantic.BaseModel):
    width: int
    height: int = 1


class Resize(pydantic.BaseModel):
    name: str
    size: Size
    tags: list[str] = []


class ResizeV2(pydantic.BaseModel):
    """Resize after a deploy that added a required field."""

    name: str
    size: Size
    quality: int


class Aliased(pydantic.BaseModel):
    user_id: int = pydantic.Field(alias="userId")


class Stamped(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(strict=True)

    at: datetime
    id: uuid.UUID


@dataclasses.dataclass
class Point:
    x: int
    y: float = 0.0


@dataclasses.dataclass
class Shape:
    name: str
    points: list[Point]
    origin: Point | None = None
    kind: Literal["line", "polygon"] = "line"
    labels: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Positive:
    n: int

    def __post_init__(self) -> None:
        if self.n <= 0:
            raise ValueError(f"n must be > 0, not {self.n}")


def nothing_stored(app: conveyor.App) -> bool:
    return app.messages() == [] and all(s.queued == s.scheduled == s.dead == 0 for s in app.status().values())


@pytest.fixture
def seen() -> list[Any]:
    return []


@pytest.fixture
def app(make_app: Callable[..., conveyor.App], seen: list[Any]) -> conveyor.App:
    app = make_app()

    @app.worker("resize")
    def resize(event: Resize, msg: conveyor.Message) -> str:
        seen.append((event, msg.event))
        return f"{event.name}:{event.size.width}x{event.size.height}"

    @app.worker("shape")
    async def shape(event: Shape) -> None:
        seen.append(event)

    @app.worker("plain")
    def plain(event: dict[str, Any]) -> None:
        seen.append(event)

    return app


def test_pydantic_handler_gets_the_model_from_an_instance_or_a_dict(
    app: conveyor.App, seen: list[Any]
) -> None:
    first = app.emit(Resize(name="a", size=Size(width=3)), "resize")
    second = app.emit({"name": "b", "size": {"width": "4", "height": 2}}, "resize")
    stored = {m.id: m.event for m in app.messages()}
    assert stored[first] == {"name": "a", "size": {"width": 3, "height": 1}, "tags": []}  # model_dump
    assert stored[second] == {"name": "b", "size": {"width": "4", "height": 2}}  # as emitted: it fits
    assert app.drain() == 2
    (a, a_json), (b, b_json) = seen
    assert a == Resize(name="a", size=Size(width=3)) and type(a) is Resize
    assert b == Resize(name="b", size=Size(width=4, height=2))
    assert (a_json, b_json) == (stored[first], stored[second])  # msg.event: the JSON value
    assert [t.result for t in app.traces("resize")] == ["b:4x2", "a:3x1"]


def test_dataclass_handler_gets_nested_dataclasses(app: conveyor.App, seen: list[Any]) -> None:
    shape = Shape("tri", [Point(1, 2.5), Point(3)], origin=Point(0), kind="polygon", labels={"a": "b"})
    app.emit(shape, "shape")
    app.emit({"name": "line", "points": [{"x": 1, "y": 2}], "ignored": True}, "shape")
    assert app.messages()[0].event == dataclasses.asdict(shape)
    assert app.drain() == 2
    assert seen[0] == shape
    assert seen[1] == Shape("line", [Point(1, 2.0)])
    assert type(seen[1].points[0]) is Point and type(seen[1].points[0].y) is float


def test_an_async_handler_with_msg_gets_the_instance(make_app: Callable[..., conveyor.App]) -> None:
    app = make_app()
    got: list[tuple[Point, Any]] = []

    @app.worker("p")
    async def handle(event: Point, msg: conveyor.Message) -> None:
        await asyncio.sleep(0)
        got.append((event, msg.event))

    app.emit(Point(1, 2), "p")
    assert app.drain() == 1
    assert got == [(Point(1, 2.0), {"x": 1, "y": 2.0})]


def test_annotations_that_are_classes_not_strings(make_app: Callable[..., conveyor.App]) -> None:
    app = make_app()
    got: list[Any] = []

    def handle(event, msg):  # type: ignore[no-untyped-def]
        got.append(event)

    handle.__annotations__ = {"event": Size, "msg": conveyor.Message}
    app.worker("size")(handle)
    app.emit({"width": 5}, "size")
    assert app.drain() == 1
    assert got == [Size(width=5)]


def test_pydantic_aliases_and_strict_models_round_trip(make_app: Callable[..., conveyor.App]) -> None:
    app = make_app()
    got: list[Any] = []

    @app.worker("a")
    def handle(event: Aliased) -> None:
        got.append(event)

    @app.worker("stamped")
    async def stamped(event: Stamped) -> None:
        got.append(event)

    at = datetime(2026, 11, 30, 4, 5, 6, 789000, tzinfo=UTC)
    app.emit(Aliased(userId=7), "a")
    app.emit(Stamped(at=at, id=uuid.UUID(int=5)), "stamped")  # strict: JSON's strings, read as JSON
    assert [m.event for m in app.messages()] == [
        {"userId": 7},
        {"at": "2026-11-30T04:05:06.789000Z", "id": "00000000-0000-0000-0000-000000000005"},
    ]
    with pytest.raises(ValueError, match="does not fit Stamped: at: Input should be a valid datetime"):
        app.emit({"at": 5, "id": str(uuid.UUID(int=5))}, "stamped")
    assert app.drain() == 2
    assert got == [Aliased(userId=7), Stamped(at=at, id=uuid.UUID(int=5))]


BAD_EMITS: list[tuple[Any, str, str]] = [
    (
        {"name": "b", "size": {"width": "wide"}},
        "resize",
        "event for worker 'resize' does not fit Resize: size.width: Input should be a valid integer",
    ),
    ({"size": {"width": 1}}, "resize", "does not fit Resize: name: Field required"),
    (
        {"name": "x", "points": [{"x": 1}, {"x": "2"}]},
        "shape",
        "does not fit Shape: points[1].x: expected int",
    ),
    ({"name": "x", "points": [], "kind": "circle"}, "shape", "does not fit Shape: kind: expected one of"),
    ({"points": []}, "shape", "event for worker 'shape' does not fit Shape: name: field required"),
    ([1, 2], "shape", "does not fit Shape: expected an object for Shape, got list"),
    (Size(width=1), "resize", "does not fit Resize: name: Field required"),  # an instance of another model
]


def test_a_bad_emit_names_the_field_and_writes_nothing(app: conveyor.App) -> None:
    for event, worker, error in BAD_EMITS:
        with pytest.raises(ValueError) as raised:
            app.emit(event, worker)
        assert type(raised.value) is ValueError and error in str(raised.value)
        with pytest.raises(ValueError) as raised:
            asyncio.run(app.aemit(event, worker))
        assert error in str(raised.value)
    assert nothing_stored(app)


def test_a_dataclass_that_refuses_its_values_is_a_mismatch(make_app: Callable[..., conveyor.App]) -> None:
    app = make_app()

    @app.worker("positive")
    def handle(event: Positive) -> None:
        pass

    with pytest.raises(
        ValueError, match=r"does not fit Positive: Positive\(\) raised ValueError: n must be > 0"
    ):
        app.emit({"n": 0}, "positive")
    assert nothing_stored(app)


def test_emit_many_checks_every_item_before_writing_any(app: conveyor.App) -> None:
    good = (Resize(name="a", size=Size(width=1)), "resize")
    bad = ({"name": "b", "size": {"width": None}}, "resize")
    with pytest.raises(ValueError, match=r"size\.width: Input should be a valid integer"):
        app.emit_many([good, (Shape("s", [Point(1)]), "shape"), bad])
    with pytest.raises(ValueError, match="does not fit Shape"):
        app.emit_many([good, ({"points": []}, "shape", {"priority": 3})])
    with pytest.raises(ValueError, match="does not fit Resize"):
        asyncio.run(app.aemit_many([good, bad]))
    with pytest.raises(ValueError, match="does not fit Resize"):
        app.emit_many([good], then=(bad[0], "resize"))
    assert nothing_stored(app)
    assert len(app.emit_many([good, (Shape("s", []), "shape")])) == 2


def test_conveyor_emit_in_a_handler_checks_and_encodes(
    make_app: Callable[..., conveyor.App], seen: list[Any]
) -> None:
    app = make_app()

    @app.worker("fan-out", max_attempts=1)
    def fan_out(event: dict[str, Any]) -> None:
        conveyor.emit(Point(event["x"]), "point")
        conveyor.emit({"x": "not a number"}, "point")  # raises: this handler fails

    @app.worker("point")
    def point(event: Point, msg: conveyor.Message) -> None:
        seen.append((event, msg.parent_id))

    parent = app.emit({"x": 4}, "fan-out")
    assert app.drain() == 2
    assert seen == [(Point(4), parent)]
    (trace,) = app.traces("fan-out")
    assert trace.outcome == "error"
    assert trace.error == "ValueError: event for worker 'point' does not fit Point: x: expected int, got str"
    assert len(trace.emitted) == 1


def test_a_stored_event_that_no_longer_fits_is_a_dead_letter_at_once(
    make_app: Callable[..., conveyor.App], seen: list[Any]
) -> None:
    before = make_app()  # the app as it was deployed when the message was emitted

    @before.worker("resize")
    def old(event: Resize) -> None:
        raise AssertionError("not run here")

    mid = before.emit(Resize(name="a", size=Size(width=2)), "resize")
    after = make_app()  # the next deploy: Resize gained a required field

    @after.worker("resize", max_attempts=5, results=60)
    def new(event: ResizeV2) -> None:
        seen.append(event)

    assert after.drain() == 1
    assert seen == []
    text = "event for worker 'resize' does not fit ResizeV2: quality: Field required"
    message = after.message(mid)
    assert message is not None
    assert (message.state, message.attempt) == ("dead", 1)  # not retried: it cannot come to fit
    assert message.last_error == f"ValueError: {text}"
    (trace,) = after.traces("resize")
    assert (trace.outcome, trace.error, trace.attempt) == ("error", f"ValueError: {text}", 1)
    assert trace.traceback is not None and text in trace.traceback
    assert trace.event == {"name": "a", "size": {"width": 2, "height": 1}, "tags": []}
    with pytest.raises(conveyor.Failed, match="quality: Field required"):
        after.result(mid, timeout=5)


def test_a_stored_dataclass_event_that_no_longer_fits_is_a_dead_letter(
    make_app: Callable[..., conveyor.App],
) -> None:
    app = make_app()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", conveyor.UnknownWorkerWarning)
        mid = app.emit({"n": -1}, "positive")  # emitted before any app here knew the worker

    @app.worker("positive")
    def handle(event: Positive) -> None:
        raise AssertionError("not run")

    assert app.drain() == 1
    dead = app.dead()
    assert [d.id for d in dead] == [mid]
    assert dead[0].last_error == (
        "ValueError: event for worker 'positive' does not fit Positive: "
        "Positive() raised ValueError: n must be > 0, not -1"
    )


def test_an_unknown_worker_is_not_checked_and_instances_are_encoded(app: conveyor.App) -> None:
    with pytest.warns(conveyor.UnknownWorkerWarning):
        elsewhere = app.emit({"anything": ["goes"]}, "defined-elsewhere")
    with pytest.warns(conveyor.UnknownWorkerWarning):
        model = app.emit(Size(width=9), "defined-elsewhere")
    plain = app.emit(Shape("s", [Point(1)]), "plain")  # a worker without a typed event: no check
    events = {m.id: m.event for m in app.messages()}
    assert events == {
        elsewhere: {"anything": ["goes"]},
        model: {"width": 9, "height": 1},
        plain: {"name": "s", "points": [{"x": 1, "y": 0.0}], "origin": None, "kind": "line", "labels": {}},
    }


def test_a_non_json_value_inside_a_dataclass_names_its_path(app: conveyor.App) -> None:
    @dataclasses.dataclass
    class Loose:
        data: Any

    with pytest.raises(TypeError, match=r"event\['data'\]: set is not JSON-encodable"):
        app.emit(Loose({1}), "plain")
    assert nothing_stored(app)
