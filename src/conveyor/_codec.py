"""JSON encoding of events and results: fast on the good path, precise on the bad one."""

from __future__ import annotations

import math
from typing import Any

import orjson

__all__ = ["decode", "encode_event", "encode_result"]

# Datetimes, dataclasses and str/int/dict/list subclasses are refused rather than silently converted:
# an event must come back out of the queue as the same JSON value that went in.
_STRICT = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS
_INT_LIMIT = 2**63


def encode_event(event: Any, max_bytes: int) -> bytes:
    """Encode one event as JSON bytes, or raise TypeError (naming the path) / ValueError (size)."""
    try:
        data = orjson.dumps(event, option=_STRICT)
    except TypeError:
        _raise_at_path(event)
        raise  # pragma: no cover - _raise_at_path always raises
    if b"null" in data:  # orjson writes NaN and infinities as null: find out whether that happened
        _check_floats(event, "event")
    if len(data) > max_bytes:
        raise ValueError(
            f"event is {len(data):,} bytes as JSON, over the limit of {max_bytes:,} bytes (max_event_bytes)"
        )
    return data


def encode_result(result: Any) -> str | None:
    """A handler's return value as JSON text for its trace; repr() when it is not JSON."""
    if result is None:
        return None
    try:
        return orjson.dumps(result, option=_STRICT).decode()
    except TypeError:
        return orjson.dumps(repr(result)).decode()


def decode(data: bytes | str) -> Any:
    return orjson.loads(data)


def _raise_at_path(value: Any, path: str = "event") -> None:
    """Walk a value that orjson refused and raise a TypeError naming the first bad spot."""
    if value is None or type(value) in (str, bool):
        return
    if type(value) is int:
        if not -_INT_LIMIT <= value < 2**64:
            raise TypeError(f"{path}: int {value} is outside the 64-bit range JSON numbers keep here")
        return
    if type(value) is float:
        return
    if type(value) is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise TypeError(
                    f"{path}: dict key {key!r} is a {type(key).__name__}; JSON object keys must be str"
                )
            _raise_at_path(item, f"{path}[{key!r}]")
        return
    if type(value) in (list, tuple):
        for index, item in enumerate(value):
            _raise_at_path(item, f"{path}[{index}]")
        return
    raise TypeError(f"{path}: {type(value).__name__} is not JSON-encodable")


def _check_floats(value: Any, path: str) -> None:
    if type(value) is float:
        if not math.isfinite(value):
            raise TypeError(f"{path}: float {value} is not JSON-encodable (JSON has no NaN or infinity)")
    elif type(value) is dict:
        for key, item in value.items():
            _check_floats(item, f"{path}[{key!r}]")
    elif type(value) in (list, tuple):
        for index, item in enumerate(value):
            _check_floats(item, f"{path}[{index}]")
