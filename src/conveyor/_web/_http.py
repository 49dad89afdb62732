"""Request input and JSON answers: what every API route shares.

Bad input of any kind becomes an ``ApiError`` (or the App's ValueError/TypeError), answered as a 4xx
with ``{"error": "..."}``. Path parameters are matched to the end of the path (``\\Z``, not ``$``,
which also matches before a trailing newline), and worker names in paths may hold any character, so
the one worker-name rule (``check_worker_name``) judges them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .._codec import parse_json
from .._emitter import MAX_DELAY
from .._priority import check_priority
from .._registry import check_worker_name

__all__ = [
    "MAX_ID",
    "MAX_LIMIT",
    "NO_NUL_PATTERN",
    "VISIBLE_PATTERN",
    "ApiError",
    "JSONResponse",
    "api",
    "block_reason",
    "dead_target",
    "delay_param",
    "event_body",
    "json_body",
    "json_error",
    "object_body",
    "parse_int",
    "path_name",
    "priority_param",
    "query_value",
    "query_worker",
    "route",
    "seconds_param",
]

MAX_LIMIT = 10_000
MAX_ID = 2**63 - 1
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_INT = re.compile(r"-?[0-9]+")

# Whitespace to both Python (str.isspace, as App.block judges a reason) and ECMAScript regexes (\s, as
# OpenAPI tools read the document's patterns): a block reason needs one character outside it.
WHITESPACE = r"\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
VISIBLE_PATTERN = f"[^{WHITESPACE}]"
NO_NUL_PATTERN = r"^[^\x00]*$"
_VISIBLE = re.compile(VISIBLE_PATTERN)


class ApiError(Exception):
    """Answered as ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def json_error(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


Endpoint = Callable[[Request], Awaitable[Response]]


def api(fn: Endpoint) -> Endpoint:
    """Turn bad input (ValueError/TypeError from the App API, ApiError) into a 4xx JSON answer."""

    async def endpoint(request: Request) -> Response:
        try:
            return await fn(request)
        except ApiError as error:
            return json_error(error.status, error.message, error.headers)
        except (ValueError, TypeError) as error:
            return json_error(400, str(error) or type(error).__name__)

    endpoint.__name__ = fn.__name__
    endpoint.__doc__ = fn.__doc__
    return endpoint


# -- routes --------------------------------------------------------------------------------------
class _AnyText(Convertor[str]):
    """A worker name in a path: any characters (slashes and newlines too); the name rule judges it."""

    regex = r"[\s\S]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("conveyor_name", _AnyText())


def route(path: str, endpoint: Endpoint, *methods: str) -> Route:
    """A Route whose pattern must match the whole path (Starlette's ``$`` lets a trailing newline by).

    Give every method of a path to one route, so a 405 there lists them all in ``Allow``."""
    made = Route(path, endpoint, methods=list(methods))
    pattern = made.path_regex.pattern
    if pattern.endswith("$"):
        made.path_regex = re.compile(pattern[:-1] + r"\Z")
    return made


# -- input ---------------------------------------------------------------------------------------
def path_name(request: Request, param: str = "name") -> str:
    return check_worker_name(request.path_params[param])


def parse_int(text: str, what: str, minimum: int = 1, maximum: int = MAX_ID) -> int:
    """Plain ASCII digits only: no sign, spaces, underscores or other scripts' digits."""
    if not (text.isascii() and text.isdigit()):
        raise ApiError(400, f"{what} must be plain digits 0-9, not {text[:80]!r}")
    if len(text) > 30 or not minimum <= (value := int(text)) <= maximum:
        raise ApiError(400, f"{what} must be between {minimum} and {maximum}, not {text[:80]}")
    return value


def query_worker(request: Request) -> str | None:
    """``?worker=``: a worker name to filter by; absent or empty: every worker (the dashboard's form)."""
    worker = request.query_params.get("worker") or None
    return None if worker is None else check_worker_name(worker)


def query_value(request: Request, name: str) -> str | None:
    """An optional query parameter that, when given, must not be empty (``?key=`` is a 400)."""
    text = request.query_params.get(name)
    if text == "":
        raise ApiError(400, f"{name} is empty: leave it out or give a value")
    return text


def seconds_param(text: str, name: str) -> float:
    """A query parameter of seconds: a plain finite number from 0 to ``MAX_DELAY`` (10 years)."""
    if _NUMBER.fullmatch(text) is None:
        raise ApiError(400, f"{name} must be a number of seconds (like 5 or 0.25), not {text[:80]!r}")
    seconds = float(text)
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_DELAY:
        raise ApiError(
            400, f"{name} must be seconds from 0 to {MAX_DELAY:,.0f} (10 years), not {text[:80]!r}"
        )
    return seconds


def delay_param(text: str | None) -> float | None:
    """``?delay=``: a finite number of seconds from 0 to ``MAX_DELAY`` (10 years)."""
    return None if text is None else seconds_param(text, "delay")


def priority_param(text: str | None) -> int:
    """``?priority=``: an int from -100 to 100 (default 0)."""
    if text is None:
        return 0
    try:
        if _INT.fullmatch(text) is None or len(text) > 30:
            raise ValueError(text)
        return check_priority(int(text, 10))
    except ValueError:
        raise ApiError(400, f"priority must be an int from -100 to 100, not {text[:80]!r}") from None


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 past ``limit`` bytes (read no further than that)."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"the request body is over {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"the request body is over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def json_body(request: Request, *, empty: Any = ..., limit: int = 65_536) -> Any:
    """The body as JSON: malformed JSON, ints past 64 bits and deep nesting are a 400."""
    body = await read_body(request, limit)
    if not body.strip():
        if empty is not ...:
            return empty
        raise ApiError(400, "the request body is empty; send JSON")
    try:
        return parse_json(body)
    except ValueError as error:
        raise ApiError(400, f"the request body is refused: {error}") from None


_WIDE_NUMBER = re.compile(rb"[0-9][eE]|[0-9]{19}")
"""A number that may be whole and past 64 bits: written with an exponent, or 19 digits in a row."""
_WHOLE_RANGE = (-(2**63), 2**64 - 1)


def _whole_numbers_fit(value: Any, path: str) -> None:
    if type(value) is float:
        if value.is_integer() and not _WHOLE_RANGE[0] <= value <= _WHOLE_RANGE[1]:
            raise ApiError(
                400,
                f"{path}: {value!r} is a whole number outside the 64-bit range (-2^63 to 2^64-1) that "
                "JSON numbers keep here; JSON, and so the OpenAPI document, counts it an integer",
            )
    elif type(value) is list:
        for index, item in enumerate(value):
            _whole_numbers_fit(item, f"{path}[{index}]")
    elif type(value) is dict:
        for key, item in value.items():
            _whole_numbers_fit(item, f"{path}[{key!r}]")


async def event_body(request: Request, limit: int) -> Any:
    """An emitted event: JSON as ``json_body`` reads it, whose whole numbers (``7``, ``7.0``, ``7e0``
    alike, as JSON Schema counts them) fit in 64 bits."""
    body = await read_body(request, limit)
    if not body.strip():
        raise ApiError(400, "the request body is empty; send JSON")
    try:
        event = parse_json(body)
    except ValueError as error:
        raise ApiError(400, f"the request body is refused: {error}") from None
    if _WIDE_NUMBER.search(body):
        _whole_numbers_fit(event, "event")
    return event


async def object_body(request: Request, allowed: set[str]) -> dict[str, Any]:
    data = await json_body(request, empty={})
    if not isinstance(data, dict):
        raise ApiError(400, f"the request body must be a JSON object, not {type(data).__name__}")
    extra = sorted(set(data) - allowed)
    if extra:
        raise ApiError(400, f"unexpected field(s) {', '.join(extra)}; allowed: {', '.join(sorted(allowed))}")
    return data


def block_reason(data: dict[str, Any]) -> str:
    """A block's reason: a str with a visible (non-space) character and no NUL."""
    reason = data.get("reason")
    if not isinstance(reason, str) or _VISIBLE.search(reason) is None or "\x00" in reason:
        raise ApiError(400, 'send {"reason": "<why>"}: a block needs a reason with visible text and no NUL')
    return reason


def dead_target(data: dict[str, Any]) -> dict[str, Any]:
    if ("id" in data) == ("worker" in data):
        raise ApiError(400, 'send {"id": <message id>} or {"worker": "<name>"}, exactly one of them')
    if "id" in data:
        value = data["id"]
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # 7.0: an integer to JSON Schema (and so to the OpenAPI document)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ApiError(400, f"id must be an integer, not {type(value).__name__}")
        if not 1 <= value <= MAX_ID:
            raise ApiError(400, f"id must be between 1 and {MAX_ID}, not {value}")
        return {"id": value}
    return {"worker": check_worker_name(data["worker"])}
