"""Typed events (docs/typed-events.md): a handler whose event parameter is annotated with a pydantic model
or a dataclass gets an instance of it, and emits to its worker are checked against it.

The seam: ``event_type_of`` reads the annotation once, at ``@app.worker``, and gives the worker's
``WorkerSpec.event_type`` (None for every other handler, which then costs nothing more). The emitter asks
it to ``encode`` an event for the worker (check, then JSON); the runner asks it to ``load`` the stored
event (the instance the handler gets). A stored event that no longer fits raises ``EventMismatch``, which
the runner turns into a dead letter at once: running it again cannot make the stored event fit.

pydantic is never imported here: a model class can only exist once its module has imported pydantic, so
``sys.modules`` says whether an annotation may be one.
"""

from __future__ import annotations

import dataclasses
import inspect
import sys
import types
import typing
from typing import Any

from ._codec import MAX_DEPTH, encode_event

__all__ = [
    "EventMismatch",
    "EventType",
    "encode_instance",
    "encoded",
    "error_path",
    "event_type_of",
    "is_instance",
]


class EventMismatch(ValueError):
    """A JSON value that does not fit a worker's event type (the text names the field)."""


class EventType:
    """What a worker's handler takes as its event: ``load`` a JSON value into it, ``dump`` one to JSON."""

    __slots__ = ("cls", "worker")

    def __init__(self, worker: str, cls: type) -> None:
        self.worker = worker
        self.cls = cls

    def load(self, data: bytes | str, value: Any) -> Any:
        """The instance for an event, given as JSON text (``data``) and as the value it holds (``value``),
        or ``EventMismatch`` naming the field."""
        raise NotImplementedError

    def mismatch(self, detail: str) -> EventMismatch:
        name = self.cls.__qualname__
        return EventMismatch(f"event for worker {self.worker!r} does not fit {name}: {detail}")

    def encode(self, event: Any, max_bytes: int) -> bytes:
        """An emitted event (an instance, or its JSON value) checked against this type, as JSON bytes."""
        data, value = encoded(event, max_bytes)
        try:
            self.load(data, value)
        except EventMismatch as error:
            raise ValueError(str(error)) from None
        return data


def encoded(event: Any, max_bytes: int) -> tuple[bytes, Any]:
    """An event as JSON bytes and as the JSON value they hold: a dataclass as ``dataclasses.asdict``
    gives it, a pydantic model as ``model_dump(mode="json", by_alias=True)``, anything else as it is;
    the codec's errors for what JSON cannot hold (naming the path)."""
    cls = type(event)
    if cls is dict or cls is list:
        return encode_event(event, max_bytes), event
    if dataclasses.is_dataclass(cls):
        value = _asdict(event)
        return encode_event(value, max_bytes), value
    pydantic = sys.modules.get("pydantic")
    if pydantic is not None and isinstance(event, pydantic.BaseModel):
        value = event.model_dump(mode="json", by_alias=True)
        return encode_event(value, max_bytes), value
    return encode_event(event, max_bytes), event


_FIELDS: dict[type, tuple[str, ...]] = {}
"""Dataclass -> the names of its fields (``dataclasses.fields`` is slow to ask each time)."""


def _asdict(instance: Any, depth: int = 0) -> dict[str, Any]:
    """``dataclasses.asdict(instance)`` without its deep copies (the value is only written out)."""
    cls = type(instance)
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return {name: _plain(getattr(instance, name), depth + 1) for name in names}


def _plain(value: Any, depth: int) -> Any:
    cls = type(value)
    if cls is str or cls is int or cls is float or cls is bool or value is None or depth > MAX_DEPTH:
        return value  # past MAX_DEPTH (a list inside itself): left for the codec to say so
    if cls is list or cls is tuple:
        return [_plain(item, depth + 1) for item in value]
    if cls is dict:
        return {key: _plain(item, depth + 1) for key, item in value.items()}
    if dataclasses.is_dataclass(cls):
        return _asdict(value, depth)
    return value  # the codec says whether it is JSON


def is_instance(event: Any) -> bool:
    """Whether ``event`` is a dataclass or a pydantic model instance."""
    if dataclasses.is_dataclass(type(event)):
        return True
    pydantic = sys.modules.get("pydantic")
    return pydantic is not None and isinstance(event, pydantic.BaseModel)


def encode_instance(event: Any, max_bytes: int, refused: TypeError) -> bytes:
    """The codec refused ``event`` (``refused``): encode it as its JSON value if it is a dataclass or a
    pydantic model instance, else raise the codec's error."""
    if not is_instance(event):
        raise refused
    return encoded(event, max_bytes)[0]


def event_type_of(worker: str, handler: Any) -> EventType | None:
    """The event type a handler's first parameter is annotated with, or None (a plain JSON value).

    Raises TypeError at ``@app.worker`` for an annotation that cannot be resolved, a pydantic v1 model, or
    a dataclass whose fields are not JSON types."""
    try:
        params = list(inspect.signature(handler).parameters.values())
    except (TypeError, ValueError):
        return None
    if not params or params[0].kind not in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD):
        return None
    first = params[0]
    annotation = first.annotation
    if annotation is first.empty:
        return None
    if isinstance(annotation, str):
        annotation = _resolve(worker, handler, first.name, annotation)
    elif typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]  # as get_type_hints gives a string one
    if not isinstance(annotation, type):
        return None
    if dataclasses.is_dataclass(annotation):
        from ._typed_dataclass import DataclassEvent

        return DataclassEvent(worker, annotation)
    pydantic = sys.modules.get("pydantic")
    if pydantic is not None and issubclass(annotation, pydantic.BaseModel):
        from ._typed_pydantic import PydanticEvent

        return PydanticEvent(worker, annotation, pydantic.ValidationError)
    v1 = sys.modules.get("pydantic.v1")
    if v1 is not None and issubclass(annotation, v1.BaseModel):
        raise TypeError(
            f"worker {worker!r}: {annotation.__qualname__} is a pydantic v1 model; typed events take "
            "pydantic v2 models (pydantic.BaseModel) or dataclasses"
        )
    return None


def _resolve(worker: str, handler: Any, name: str, annotation: str) -> Any:
    """A string annotation (or one under ``from __future__ import annotations``) resolved in the
    handler's module with ``typing.get_type_hints``; TypeError saying why when it cannot be."""
    holder = types.SimpleNamespace(__annotations__={name: annotation})
    try:
        return typing.get_type_hints(holder, globalns=_globals_of(handler))[name]
    except Exception as error:
        raise TypeError(
            f"worker {worker!r}: the annotation {annotation!r} of the event parameter {name!r} cannot be "
            f"resolved ({type(error).__name__}: {error}); the type must be importable from the handler's "
            "module at @app.worker (not only under `if TYPE_CHECKING:`, nor defined inside a function)"
        ) from None


def _globals_of(handler: Any) -> dict[str, Any]:
    target = handler
    if inspect.ismethod(target):
        target = target.__func__
    if not inspect.isfunction(target) and not inspect.isclass(target):
        call = type(target).__call__  # an object with __call__ (a functools.partial: its func)
        target = getattr(target, "func", None) or call
    target = inspect.unwrap(target)
    found = getattr(target, "__globals__", None)
    if isinstance(found, dict):
        return found
    module = sys.modules.get(getattr(target, "__module__", None) or "")
    return vars(module) if module is not None else {}


def error_path(loc: tuple[str | int, ...] | list[str | int]) -> str:
    """``("size", "width")`` as ``size.width``, ``("items", 0, "name")`` as ``items[0].name``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text
