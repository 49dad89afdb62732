"""The reusable parts of the OpenAPI document: schemas, parameters and error answers.

Each constraint here is one the server enforces (``_http.py`` holds the shared patterns and bounds),
so a client generated from the document and the server agree on what is valid.
"""

from __future__ import annotations

from typing import Any

from .._codec import MAX_DEPTH
from .._emitter import MAX_DELAY
from .._message import STATES
from ._http import MAX_ID, MAX_LIMIT, NO_NUL_PATTERN, VISIBLE_PATTERN
from ._views import CURSOR_PATTERN, MAX_SEARCH, PAGES, RANGES

__all__ = [
    "COMPONENTS",
    "ERROR",
    "ID_PARAM",
    "NAME_PATTERN",
    "WRITE_HEADER",
    "json_answer",
    "name_param",
    "query_params",
    "ref",
]

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:/\-]{0,199}$"
"""The worker-name rule (``_registry.check_worker_name``); schedule names follow it too."""
FILTER_PATTERN = r"^(|[A-Za-z0-9][A-Za-z0-9_.:/\-]{0,199})$"
PAGE_NAMES = [page for page in PAGES if page != "worker"]
"""A worker filter: a worker name, or empty for every worker (what the dashboard's form sends)."""


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_answer(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERROR = {"$ref": "#/components/responses/Error"}


def name_param(name: str = "name", description: str = "A worker name.") -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "pattern": NAME_PATTERN},
    }


ID_PARAM = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "A message id: plain digits 0-9.",
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
}

WRITE_HEADER = {
    "name": "X-Conveyor-Request",
    "in": "header",
    "required": True,
    "description": "Any non-empty value (the dashboard sends 1): a cross-site form cannot send it.",
    "schema": {"type": "string", "minLength": 1},
}

_QUERY: dict[str, dict[str, Any]] = {
    "worker": {
        "schema": {"type": "string", "pattern": FILTER_PATTERN},
        "description": "Only this worker's; empty or left out: every worker.",
    },
    "state": {
        "schema": {"enum": [*STATES, ""]},
        "description": "Only messages in this state; empty or left out: every state.",
    },
    "limit": {
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 100},
        "description": "At most this many (plain digits).",
    },
    "delay": {
        "schema": {"type": "number", "minimum": 0, "maximum": MAX_DELAY},
        "description": "Seconds to wait before the message is due (at most 10 years).",
    },
    "key": {
        "schema": {"type": "string", "minLength": 1, "maxLength": 1000, "pattern": NO_NUL_PATTERN},
        "description": "Dedup key: a no-op (answering the existing id) while a message of this worker "
        "with it is queued or running.",
    },
    "wait": {
        "schema": {"type": "number", "minimum": 0, "maximum": MAX_DELAY, "default": 0},
        "description": "Seconds to wait for it to finish (at most the server's cap, 30 s by default).",
    },
    "priority": {
        "schema": {"type": "integer", "minimum": -100, "maximum": 100, "default": 0},
        "description": "Higher is claimed first in its worker (then run_at, then id).",
    },
    "page": {
        "schema": {"enum": [*PAGE_NAMES, ""]},
        "description": "The dashboard page whose sections to send (default: overview; with `worker`: "
        "that worker's page).",
    },
    "q": {
        "schema": {"type": "string", "maxLength": MAX_SEARCH, "pattern": NO_NUL_PATTERN},
        "description": "Search: a message id; with a worker, also its key or text in its event.",
    },
    "after": {
        "schema": {"type": "string", "pattern": f"^(|{CURSOR_PATTERN[1:-1]})$"},
        "description": "Where a page of a worker's messages starts (a Next page link's); empty: the first.",
    },
    "range": {"schema": {"enum": [*RANGES, ""]}, "description": "The charts' range (default: hour)."},
}


def query_params(*names: str) -> list[dict[str, Any]]:
    """The named optional query parameters; given, none may be empty unless its schema says so."""
    return [{"name": name, "in": "query", **_QUERY[name]} for name in names]


_INT64 = {"type": "integer", "minimum": -(2**63), "maximum": 2**64 - 1}
_JSON_VALUE = {
    "description": (
        "Any JSON value. Whole numbers (7, 7.0 and 7e0 alike) must fit in 64 bits (-2^63 to 2^64-1), "
        "other numbers are any finite double, and lists and objects may "
        f"nest at most {MAX_DEPTH} levels; the event is at most max_event_bytes (1 MiB by default) as JSON."
    ),
    "anyOf": [
        {"type": ["null", "boolean", "string"]},
        _INT64,
        {"type": "number", "not": {"type": "integer"}},
        {"type": "array", "items": {"$ref": "#/components/schemas/JsonValue"}},
        {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/JsonValue"}},
    ],
}
_TIME = {"type": "string", "format": "date-time"}
_MAYBE_TIME = {"type": ["string", "null"], "format": "date-time"}
_COUNT = {"type": "integer", "minimum": 0}

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "properties": {"error": {"type": "string"}},
        "required": ["error"],
    },
    "JsonValue": _JSON_VALUE,
    "WorkerStatus": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "queued": _COUNT,
            "scheduled": _COUNT,
            "running": _COUNT,
            "dead": _COUNT,
            "paused": {"type": "boolean"},
            "blocked": {"type": ["string", "null"]},
            "unknown": {"type": "boolean"},
            "rate": {"type": ["string", "null"], "description": 'The rate limit, as "100/m" (null: none).'},
            "rate_limited": {
                "type": "boolean",
                "description": "True while the rate holds due messages back.",
            },
        },
        "required": [
            "name",
            "queued",
            "scheduled",
            "running",
            "dead",
            "paused",
            "blocked",
            "unknown",
            "rate",
            "rate_limited",
        ],
    },
    "Message": {
        "type": "object",
        "properties": {
            "id": {"type": "integer", "minimum": 1},
            "worker": {"type": "string"},
            "event": {},
            "state": {"enum": list(STATES)},
            "enqueued_at": _TIME,
            "run_at": _TIME,
            "attempt": _COUNT,
            "parent_id": {"type": ["integer", "null"]},
            "root_id": {"type": ["integer", "null"]},
            "key": {"type": ["string", "null"]},
            "last_error": {"type": ["string", "null"]},
            "snoozes": _COUNT | {"description": "Times Incomplete sent the message back (see max_snoozes)."},
            "priority": {
                "type": "integer",
                "minimum": -100,
                "maximum": 100,
                "description": "Higher is claimed first in its worker (then run_at, then id).",
            },
            "group": {
                "type": ["array", "null"],
                "items": {"type": "integer", "minimum": 1},
                "description": "A group's then message (emit_many with then=): the group's message ids.",
            },
            "meta": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "Set by on_emit hooks at emit (a W3C traceparent, a tenant); {} when none.",
            },
        },
        "required": [
            "id",
            "worker",
            "event",
            "state",
            "enqueued_at",
            "run_at",
            "attempt",
            "parent_id",
            "root_id",
            "key",
            "last_error",
            "snoozes",
            "priority",
            "group",
            "meta",
        ],
    },
    "Result": {
        "type": "object",
        "description": (
            "What became of a message of a worker with results=: `ok` with `value` (the return value; "
            "`repr` true when it was not JSON and `value` is its repr), `dead` or `cancelled` with "
            "`error`, or `pending` (not finished yet)."
        ),
        "properties": {
            "id": {"type": "integer", "minimum": 1},
            "state": {"enum": ["ok", "dead", "cancelled", "pending"]},
            "value": {},
            "repr": {"type": "boolean"},
            "error": {"type": ["string", "null"]},
            "finished_at": _TIME,
        },
        "required": ["id", "state"],
    },
    "Trace": {
        "type": "object",
        "properties": {
            "message_id": {"type": "integer"},
            "worker": {"type": "string"},
            "event": {},
            "outcome": {"enum": ["ok", "error", "incomplete", "retry", "cancelled", "timeout", "lost"]},
            "result": {},
            "error": {"type": ["string", "null"]},
            "traceback": {"type": ["string", "null"]},
            "logs": {"type": "array", "items": {"type": "string"}},
            "emitted": {"type": "array", "items": {"type": "integer"}},
            "attempt": _COUNT,
            "enqueued_at": _TIME,
            "started_at": _TIME,
            "finished_at": _TIME,
        },
        "required": [
            "message_id",
            "worker",
            "event",
            "outcome",
            "result",
            "error",
            "traceback",
            "logs",
            "emitted",
            "attempt",
            "enqueued_at",
            "started_at",
            "finished_at",
        ],
    },
    "UnknownWorker": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "count": _COUNT,
            "first_emit": _TIME,
            "last_emit": _TIME,
            "sample_event": {},
        },
        "required": ["name", "count", "first_emit", "last_emit", "sample_event"],
    },
    "ScheduleStatus": {
        "type": "object",
        "description": "Exactly one of cron and every is set; times are ISO 8601 UTC.",
        "properties": {
            "name": {"type": "string"},
            "worker": {"type": "string"},
            "cron": {"type": ["string", "null"]},
            "every": {"type": ["number", "null"], "minimum": 1},
            "tz": {"type": "string"},
            "misfire": {"enum": ["latest", "all", "skip"]},
            "paused": {"type": "boolean"},
            "last_at": _MAYBE_TIME,
            "next_at": _MAYBE_TIME,
        },
        "required": ["name", "worker", "cron", "every", "tz", "misfire", "paused", "last_at", "next_at"],
    },
    "Id": {
        "type": "object",
        "properties": {"id": {"type": "integer", "minimum": 1}},
        "required": ["id"],
    },
    "DeadTarget": {
        "type": "object",
        "description": "Exactly one of id (one dead letter) or worker (all of that worker's).",
        "properties": {
            "id": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
            "worker": {"type": "string", "pattern": NAME_PATTERN},
        },
        "additionalProperties": False,
        "minProperties": 1,
        "maxProperties": 1,
    },
    "BlockReason": {
        "type": "object",
        "properties": {
            "reason": {
                "type": "string",
                "description": "Why: some visible (non-space) text, without NUL.",
                "allOf": [{"pattern": VISIBLE_PATTERN}, {"pattern": NO_NUL_PATTERN}],
            }
        },
        "required": ["reason"],
        "additionalProperties": False,
    },
    "SectionEvent": {
        "type": "object",
        "description": (
            "One server-sent event: `event: section` and `data:` a JSON object, the id of a dashboard "
            "section and its new HTML. Comments (keep-alive) and the `retry:` hint are not events."
        ),
        "properties": {
            "event": {"const": "section"},
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": {
                    "type": "object",
                    "properties": {"id": {"type": "string"}, "html": {"type": "string"}},
                    "required": ["id", "html"],
                },
            },
        },
        "required": ["event", "data"],
    },
}

COMPONENTS: dict[str, Any] = {
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    "responses": {
        "Error": json_answer(ref("Error"), "Bad input, not found, or refused: one line saying why."),
    },
    "schemas": _SCHEMAS,
}
