"""Typed events without a store: which annotations make a typed worker, the dataclass converters, and that
the core never imports pydantic for a worker that does not use it."""

from __future__ import annotations

import dataclasses
import datetime  # noqa: F401 - named by a string annotation below
import enum
import functools
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import InitVar
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import orjson
import pydantic
import pydantic.v1
import pytest

import conveyor
from conveyor._typed import EventType, event_type_of

SRC = Path(__file__).resolve().parents[2] / "src"


@dataclasses.dataclass
class Node:
    name: str
    children: list[Node] = dataclasses.field(default_factory=list)
    parent: Node | None = None


@dataclasses.dataclass
class Mixed:
    pair: tuple[int, str]
    many: tuple[float, ...]
    either: int | str
    flag: bool
    ratio: float
    any_: Any
    loose: dict[str, Any]
    mode: Literal[1, "one"]
    computed: int = dataclasses.field(init=False, default=0)


class Model(pydantic.BaseModel):
    n: int


class OldModel(pydantic.v1.BaseModel):
    n: int


def typed(cls: Any, worker: str = "w") -> EventType:
    def handle(event: Any) -> None:
        pass

    handle.__annotations__ = {"event": cls}
    found = event_type_of(worker, handle)
    assert found is not None
    return found


def load(event_type: EventType, value: Any) -> Any:
    return event_type.load(orjson.dumps(value), value)


def mismatch(event_type: EventType, value: Any) -> str:
    with pytest.raises(ValueError) as raised:
        load(event_type, value)
    text = str(raised.value)
    assert text.startswith(f"event for worker {event_type.worker!r} ")
    return text.removeprefix(f"event for worker {event_type.worker!r} ")


def test_only_a_model_or_dataclass_on_the_first_parameter_makes_a_typed_worker() -> None:
    def untyped(event, msg):  # type: ignore[no-untyped-def]
        pass

    def json_typed(event: dict[str, Any], msg: Model) -> None:
        pass

    def optional(event: Model | None) -> None:
        pass

    assert event_type_of("w", untyped) is None
    assert event_type_of("w", json_typed) is None
    assert event_type_of("w", optional) is None
    assert event_type_of("w", print) is None  # no signature
    assert typed(Model).cls is Model
    assert typed(Annotated[Model, "a note"]).cls is Model


def test_handlers_of_every_shape_are_resolved_in_their_module() -> None:
    class Handler:
        def __call__(self, event: Model) -> None:
            pass

        def method(self, event: Node) -> None:
            pass

    def two(event: Model, extra: int) -> None:
        pass

    found = [
        event_type_of("w", Handler()),
        event_type_of("w", Handler().method),
        event_type_of("w", functools.partial(two, extra=1)),
    ]
    assert [f.cls if f else None for f in found] == [Model, Node, Model]


def test_a_pydantic_v1_model_is_refused() -> None:
    with pytest.raises(TypeError, match="OldModel is a pydantic v1 model"):
        typed(OldModel)


def test_dataclass_converters_build_what_the_fields_say() -> None:
    mixed = typed(Mixed)
    value = {
        "pair": [1, "a"],
        "many": [1, 2.5],
        "either": "s",
        "flag": True,
        "ratio": 3,
        "any_": {"x": [None]},
        "loose": {"k": 1},
        "mode": "one",
    }
    got = load(mixed, value)
    assert got == Mixed((1, "a"), (1.0, 2.5), "s", True, 3.0, {"x": [None]}, {"k": 1}, "one")
    assert type(got.ratio) is float and type(got.many[0]) is float
    tree = load(typed(Node), {"name": "root", "children": [{"name": "leaf", "parent": {"name": "root"}}]})
    assert tree.children[0].parent == Node("root")


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"pair": [1]}, "pair: expected 2 items, got 1"),
        ({"pair": [1, 2]}, "pair[1]: expected str, got int"),
        ({"many": [1, "x"]}, "many[1]: expected float, got str"),
        ({"either": 1.5}, "either: expected int or str, got float"),
        ({"flag": 1}, "flag: expected bool, got int"),
        ({"ratio": True}, "ratio: expected float, got bool"),
        ({"loose": []}, "loose: expected dict, got list"),
        ({"mode": True}, "mode: expected one of 1, 'one', got True"),
    ],
)
def test_dataclass_mismatches_name_the_field(change: dict[str, Any], error: str) -> None:
    value = {
        "pair": [1, "a"],
        "many": [],
        "either": 1,
        "flag": False,
        "ratio": 1.0,
        "any_": None,
        "loose": {},
        "mode": 1,
    }
    assert mismatch(typed(Mixed), {**value, **change}) == f"does not fit Mixed: {error}"


def test_nested_dataclass_mismatches_give_the_whole_path() -> None:
    node = typed(Node, "tree")
    with pytest.raises(
        ValueError, match=r"^event for worker 'tree' does not fit Node: children\[0\]\.children"
    ):
        load(node, {"name": "a", "children": [{"name": "b", "children": [{"name": 3}]}]})
    assert (
        mismatch(node, {"name": "a", "parent": {"children": []}})
        == "does not fit Node: parent.name: field required"
    )


@pytest.mark.parametrize(
    ("annotation", "shown"),
    [
        ("datetime.datetime", "datetime"),
        ("set[int]", r"set\[int\]"),
        ("dict[int, str]", r"dict\[int, str\]"),
        ("Color", "Color"),
    ],
)
def test_dataclass_fields_json_cannot_hold_are_refused_at_registration(annotation: str, shown: str) -> None:
    cls = dataclasses.make_dataclass("Event", [("field", annotation)])
    cls.__module__ = __name__
    with pytest.raises(TypeError, match=f"Event.field is {shown}, which a dataclass event cannot hold"):
        typed(cls)


class Color(enum.Enum):
    RED = 1


def test_importing_conveyor_and_typed_dataclass_workers_never_import_pydantic(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import dataclasses, sys
        import conveyor

        @dataclasses.dataclass
        class Point:
            x: int

        app = conveyor.App("sqlite:///{tmp_path}/c.db")
        got = []
        app.worker("p")(lambda event: got.append(event))
        def handle(event: Point) -> None:
            got.append(event)
        app.worker("typed")(handle)
        app.emit(Point(1), "typed")
        app.emit(Point(2), "p")
        assert app.drain() == 2, got
        assert got == [Point(1), {{"x": 2}}] or got == [{{"x": 2}}, Point(1)], got
        assert "pydantic" not in sys.modules, "conveyor imported pydantic"
        print("ok")
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        check=False,
        env={"PYTHONPATH": str(SRC)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ok"


def test_registration_refuses_what_it_cannot_type() -> None:
    app = conveyor.App("sqlite:///:memory:")
    with pytest.raises(
        TypeError, match="annotation 'NotDefinedAnywhere' of the event parameter 'event' cannot"
    ):

        @app.worker("lost")
        def lost(event: NotDefinedAnywhere) -> None:  # type: ignore[name-defined]  # noqa: F821
            pass

    @dataclasses.dataclass
    class WithSet:
        items: set[int]

    with pytest.raises(TypeError, match=r"WithSet.items is set\[int\], which a dataclass event cannot hold"):
        app.worker("sets")(handler_for(WithSet))
    assert "lost" not in app.status() and "sets" not in app.status()


def handler_for(cls: type) -> Callable[[Any], None]:
    def handle(event: Any) -> None:
        pass

    handle.__annotations__ = {"event": cls}
    return handle


def test_a_schedule_takes_a_dataclass_or_model_as_its_event() -> None:
    from conveyor._schedules import ScheduleSpec

    @dataclasses.dataclass
    class Report:
        kind: str

    assert ScheduleSpec.build("daily", "report", Report("sales"), every=60).event == b'{"kind":"sales"}'
    assert ScheduleSpec.build("hourly", "report", Model(n=1), every=60).event == b'{"n":1}'
    with pytest.raises(TypeError, match=r"event\['kind'\]: set is not JSON-encodable"):
        ScheduleSpec.build("bad", "report", Report({"x"}), every=60)  # type: ignore[arg-type]


def test_a_dataclass_is_written_as_dataclasses_asdict_gives_it() -> None:
    from conveyor._typed import encoded

    @dataclasses.dataclass
    class Inner:
        values: tuple[int, ...]

    @dataclasses.dataclass
    class Outer:
        name: str
        _private: int = 2
        kind: ClassVar[str] = "class attribute"
        seed: InitVar[int] = 0
        later: int = dataclasses.field(init=False, default=3)
        inner: list[Inner] = dataclasses.field(default_factory=lambda: [Inner((1, 2))])
        table: dict[str, Inner | None] = dataclasses.field(default_factory=lambda: {"a": None})

        def __post_init__(self, seed: int) -> None:
            self.not_a_field = seed

    event = Outer("o")
    data, value = encoded(event, 10_000)
    assert orjson.loads(data) == value == orjson.loads(orjson.dumps(dataclasses.asdict(event)))
    assert value == {
        "name": "o",
        "_private": 2,
        "later": 3,
        "inner": [{"values": [1, 2]}],
        "table": {"a": None},
    }


def test_a_dataclass_holding_itself_is_the_codecs_clear_error() -> None:
    from conveyor._typed import encoded

    @dataclasses.dataclass
    class Loop:
        items: list[Any]

    loop = Loop([])
    loop.items.append(loop.items)
    with pytest.raises(ValueError, match=r"event\['items'\]\[0\]\[0\].*nest"):
        encoded(loop, 10_000)
