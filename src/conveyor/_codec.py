"""JSON encoding of events and results: fast on the good path, precise on the bad one."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson

__all__ = ["MAX_DEPTH", "decode", "encode_event", "encode_result", "parse_json", "storable_text"]

# Datetimes, dataclasses and str/int/dict/list subclasses are refused rather than silently converted:
# an event must come back out of the queue as the same JSON value that went in.
_STRICT = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS
_INT_LIMIT = 2**63
MAX_DEPTH = 254
"""How many containers (lists, dicts) an event may nest, one inside the other: the depth orjson writes."""
_LONG_NUMBER = re.compile(rb"[0-9]{19}")
"""19 digits in a row: the shortest text of an int outside the 64-bit range (2**63 has 19 digits)."""


def encode_event(event: Any, max_bytes: int) -> bytes:
    """Encode one event as JSON bytes, or raise TypeError (naming the path) / ValueError (size)."""
    try:
        data = orjson.dumps(event, option=_STRICT)
    except TypeError:
        _raise_at_path(event, "event", [])
        raise  # refused for a reason the walk does not know: orjson's own message
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


def parse_json(data: bytes | str) -> Any:
    """Parse JSON text from outside (the CLI, HTTP) into a value ``encode_event`` accepts as it is.

    Raises ValueError with one line for malformed JSON, an int outside the 64-bit range (orjson
    would read it as a float), and nesting deeper than ``MAX_DEPTH``.
    """
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        if str(error).startswith("depth limit exceeded"):
            raise ValueError(_too_deep("JSON")) from None
        raise ValueError(f"malformed JSON: {error}") from None
    if type(value) in (list, dict):
        try:
            orjson.dumps(value)  # C speed; refuses only nesting past MAX_DEPTH for a parsed value
        except TypeError:
            raise ValueError(_too_deep("JSON")) from None
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if _LONG_NUMBER.search(raw):  # maybe an int orjson turned into a float: read the ints exactly
        try:
            _raise_at_path(json.loads(data), "JSON", [])
        except TypeError as error:
            raise ValueError(str(error)) from None
    return value


def _too_deep(path: str) -> str:
    return f"{path}: nested deeper than {MAX_DEPTH} levels of lists and dicts (the limit for events)"


def _raise_at_path(value: Any, path: str, open_: list[int]) -> None:
    """Walk a value that orjson refused and raise a TypeError naming the first bad spot (a
    ValueError for nesting past ``MAX_DEPTH`` or a container inside itself). ``open_``: the ids of the
    containers around ``value``."""
    if type(value) is str:
        _check_utf8(value, f"{path}: str")
        return
    if value is None or type(value) is bool:
        return
    if type(value) is int:
        if not -_INT_LIMIT <= value < 2**64:
            raise TypeError(f"{path}: int {value} is outside the 64-bit range JSON numbers keep here")
        return
    if type(value) is float:
        return
    if type(value) in (dict, list, tuple):
        if id(value) in open_:
            raise ValueError(
                f"{path}: the {type(value).__name__} contains itself, so it nests without end "
                f"(events nest at most {MAX_DEPTH} levels)"
            )
        if len(open_) >= MAX_DEPTH:
            raise ValueError(_too_deep(path))
        open_.append(id(value))
        if type(value) is dict:
            for key, item in value.items():
                if type(key) is not str:
                    raise TypeError(
                        f"{path}: dict key {key!r} is {_article(type(key).__name__)}; "
                        "JSON object keys must be str"
                    )
                _check_utf8(key, f"{path}: dict key {key!r}")
                _raise_at_path(item, f"{path}[{key!r}]", open_)
        else:
            for index, item in enumerate(value):
                _raise_at_path(item, f"{path}[{index}]", open_)
        open_.pop()
        return
    raise TypeError(f"{path}: {type(value).__name__} is not JSON-encodable")


def _check_utf8(text: str, what: str) -> None:
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError as error:
            raise TypeError(
                f"{what} has a lone surrogate at index {error.start} (not valid UTF-8, so not JSON-encodable)"
            ) from None


def storable_text(text: str) -> bool:
    """Whether both stores can hold ``text`` as it is: no NUL (PostgreSQL refuses it in text) and
    valid UTF-8 (no lone surrogates)."""
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _article(noun: str) -> str:
    return f"an {noun}" if noun[:1].lower() in "aeiou" else f"a {noun}"


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
