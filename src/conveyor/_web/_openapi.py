"""The OpenAPI 3.1 document served at ``/openapi.json`` (hand-written; tests check it against the routes)."""

from __future__ import annotations

from typing import Any

__all__ = ["openapi_document"]

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:/\-]{0,199}$"
STATES = ["queued", "scheduled", "running", "dead"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERROR = {"$ref": "#/components/responses/Error"}


def _worker_param(name: str = "name") -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": "A worker name.",
        "schema": {"type": "string", "pattern": NAME_PATTERN},
    }


ID_PARAM = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "A message id: plain digits 0-9.",
    "schema": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
}


WRITE_HEADER = {
    "name": "X-Conveyor-Request",
    "in": "header",
    "required": True,
    "description": "Any non-empty value (the dashboard sends 1): a cross-site form cannot send it.",
    "schema": {"type": "string", "minLength": 1},
}


def _rule(summary: str, body_key: str, body_type: str) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "parameters": [_worker_param()],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {"worker": {"type": "string"}, body_key: {"type": body_type}},
                        "required": ["worker", body_key],
                    },
                    "Done.",
                ),
                "400": ERROR,
            },
        }
    }


def _schedule_change(summary: str, paused: bool) -> dict[str, Any]:
    name = _worker_param() | {"description": "A schedule name (the worker-name rule)."}
    done = {
        "type": "object",
        "properties": {"schedule": {"type": "string"}, "paused": {"const": paused}},
        "required": ["schedule", "paused"],
    }
    return {
        "post": {
            "summary": summary,
            "parameters": [name],
            "responses": {"200": _json(done, "Done."), "400": ERROR, "404": ERROR},
        }
    }


def openapi_document() -> dict[str, Any]:
    dead_target = {
        "type": "object",
        "description": "Exactly one of id or worker.",
        "properties": {"id": {"type": "integer"}, "worker": {"type": "string", "pattern": NAME_PATTERN}},
        "additionalProperties": False,
        "minProperties": 1,
        "maxProperties": 1,
    }
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Conveyor",
            "version": "1",
            "description": (
                "Durable background workers. All bodies are JSON. When CONVEYOR_TOKEN is set every request "
                "needs `Authorization: Bearer <token>`. Every write (POST, DELETE) needs the header "
                '`X-Conveyor-Request: 1`. Bad input is a 4xx with `{"error": ...}`.'
            ),
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {
                "Error": _json(_ref("Error"), "Bad input (or not found, or refused)."),
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {"error": {"type": "string"}},
                    "required": ["error"],
                },
                "WorkerStatus": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "queued": {"type": "integer"},
                        "scheduled": {"type": "integer"},
                        "running": {"type": "integer"},
                        "dead": {"type": "integer"},
                        "paused": {"type": "boolean"},
                        "blocked": {"type": ["string", "null"]},
                        "unknown": {"type": "boolean"},
                        "rate": {
                            "type": ["string", "null"],
                            "description": 'The rate limit, as "100/m" (null: none).',
                        },
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
                        "id": {"type": "integer"},
                        "worker": {"type": "string"},
                        "event": {},
                        "state": {"enum": STATES},
                        "enqueued_at": {"type": "string", "format": "date-time"},
                        "run_at": {"type": "string", "format": "date-time"},
                        "attempt": {"type": "integer"},
                        "parent_id": {"type": ["integer", "null"]},
                        "root_id": {"type": ["integer", "null"]},
                        "key": {"type": ["string", "null"]},
                        "last_error": {"type": ["string", "null"]},
                        "snoozes": {
                            "type": "integer",
                            "description": "Times Incomplete sent the message back (see max_snoozes).",
                        },
                        "priority": {
                            "type": "integer",
                            "minimum": -100,
                            "maximum": 100,
                            "description": "Higher is claimed first in its worker (then run_at, then id).",
                        },
                        "group": {
                            "type": ["array", "null"],
                            "items": {"type": "integer"},
                            "description": "A group's then message (emit_many with then=): the group's ids.",
                        },
                    },
                    "required": ["id", "worker", "event", "state", "enqueued_at", "run_at", "attempt"],
                },
                "Trace": {
                    "type": "object",
                    "properties": {
                        "message_id": {"type": "integer"},
                        "worker": {"type": "string"},
                        "event": {},
                        "outcome": {
                            "enum": ["ok", "error", "incomplete", "retry", "cancelled", "timeout", "lost"]
                        },
                        "result": {},
                        "error": {"type": ["string", "null"]},
                        "traceback": {"type": ["string", "null"]},
                        "logs": {"type": "array", "items": {"type": "string"}},
                        "emitted": {"type": "array", "items": {"type": "integer"}},
                        "attempt": {"type": "integer"},
                        "enqueued_at": {"type": "string", "format": "date-time"},
                        "started_at": {"type": "string", "format": "date-time"},
                        "finished_at": {"type": "string", "format": "date-time"},
                    },
                    "required": [
                        "message_id",
                        "worker",
                        "event",
                        "outcome",
                        "attempt",
                        "started_at",
                        "finished_at",
                    ],
                },
                "UnknownWorker": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "count": {"type": "integer"},
                        "first_emit": {"type": "string", "format": "date-time"},
                        "last_emit": {"type": "string", "format": "date-time"},
                        "sample_event": {},
                    },
                    "required": ["name", "count", "first_emit", "last_emit", "sample_event"],
                },
                "Result": {
                    "type": "object",
                    "description": (
                        "What became of a message of a worker with results=: `ok` with `value` (the return "
                        "value; `repr` true when it was not JSON and `value` is its repr), `dead` or "
                        "`cancelled` with `error`, or `pending` (not finished yet). Times are ISO 8601 UTC."
                    ),
                    "properties": {
                        "id": {"type": "integer"},
                        "state": {"enum": ["ok", "dead", "cancelled", "pending"]},
                        "value": {},
                        "repr": {"type": "boolean"},
                        "error": {"type": ["string", "null"]},
                        "finished_at": {"type": "string", "format": "date-time"},
                    },
                    "required": ["id", "state"],
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
                        "last_at": {"type": ["string", "null"], "format": "date-time"},
                        "next_at": {"type": ["string", "null"], "format": "date-time"},
                    },
                    "required": [
                        "name",
                        "worker",
                        "cron",
                        "every",
                        "tz",
                        "misfire",
                        "paused",
                        "last_at",
                        "next_at",
                    ],
                },
                "Id": {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]},
            },
        },
        "security": [{"bearer": []}, {}],
        "paths": {
            "/api/emit/{worker}": {
                "post": {
                    "summary": "Emit the request body as an event to a worker (unknown workers: held).",
                    "parameters": [
                        _worker_param("worker"),
                        {
                            "name": "delay",
                            "in": "query",
                            "schema": {"type": "number", "minimum": 0},
                            "description": "Seconds to wait before the message is due.",
                        },
                        {
                            "name": "key",
                            "in": "query",
                            "schema": {"type": "string", "minLength": 1, "maxLength": 1000},
                            "description": "Dedup key: a no-op while one with it is queued or running.",
                        },
                        {
                            "name": "priority",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": -100, "maximum": 100, "default": 0},
                            "description": "Higher is claimed first in its worker (then run_at, then id).",
                        },
                    ],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {}}}},
                    "responses": {"202": _json(_ref("Id"), "Enqueued."), "400": ERROR, "413": ERROR},
                }
            },
            "/api/workers": {
                "get": {
                    "summary": "Every worker defined or emitted to, with counts and rules.",
                    "responses": {"200": _json({"type": "array", "items": _ref("WorkerStatus")}, "Workers.")},
                }
            },
            "/api/workers/{name}/pause": _rule("Stop claiming this worker's messages.", "paused", "boolean"),
            "/api/workers/{name}/resume": _rule("Claim this worker's messages again.", "paused", "boolean"),
            "/api/workers/{name}/unblock": _rule("Lift a block.", "blocked", "null"),
            "/api/workers/{name}/block": {
                "post": {
                    "summary": "Block a worker (held until unblocked).",
                    "parameters": [_worker_param()],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"reason": {"type": "string", "minLength": 1}},
                                    "required": ["reason"],
                                    "additionalProperties": False,
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {"worker": {"type": "string"}, "blocked": {"type": "string"}},
                            },
                            "Blocked.",
                        ),
                        "400": ERROR,
                    },
                }
            },
            "/api/workers/{name}/purge": {
                "post": {
                    "summary": "Remove every queued and scheduled message of a worker (or an unknown one).",
                    "parameters": [_worker_param()],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {"worker": {"type": "string"}, "purged": {"type": "integer"}},
                            },
                            "Removed.",
                        ),
                        "400": ERROR,
                    },
                }
            },
            "/api/workers/{name}/traces": {
                "get": {
                    "summary": "The kept traces of a worker, newest first.",
                    "parameters": [_worker_param()],
                    "responses": {
                        "200": _json({"type": "array", "items": _ref("Trace")}, "Traces."),
                        "400": ERROR,
                    },
                }
            },
            "/api/workers/{name}/traces/{id}/replay": {
                "post": {
                    "summary": "Emit the event of a kept trace again.",
                    "parameters": [_worker_param(), ID_PARAM],
                    "responses": {"202": _json(_ref("Id"), "Enqueued."), "400": ERROR, "404": ERROR},
                }
            },
            "/api/messages": {
                "get": {
                    "summary": "Messages, oldest first.",
                    "parameters": [
                        {
                            "name": "worker",
                            "in": "query",
                            "schema": {"type": "string", "pattern": NAME_PATTERN},
                        },
                        {"name": "state", "in": "query", "schema": {"enum": STATES}},
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 100},
                        },
                    ],
                    "responses": {
                        "200": _json({"type": "array", "items": _ref("Message")}, "Messages."),
                        "400": ERROR,
                    },
                }
            },
            "/api/messages/{id}": {
                "get": {
                    "summary": "One message by id (queued, scheduled, running or dead).",
                    "parameters": [ID_PARAM],
                    "responses": {"200": _json(_ref("Message"), "The message."), "400": ERROR, "404": ERROR},
                },
                "delete": {
                    "summary": "Cancel a queued or scheduled message.",
                    "parameters": [ID_PARAM],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {"id": {"type": "integer"}, "cancelled": {"const": True}},
                            },
                            "Cancelled.",
                        ),
                        "400": ERROR,
                        "404": ERROR,
                    },
                },
            },
            "/api/messages/{id}/result": {
                "get": {
                    "summary": (
                        "A message's kept result (docs/results.md), waiting up to `wait` seconds for it to "
                        "finish: a long poll, answered at once when it finishes (capped at 30 s)."
                    ),
                    "parameters": [
                        ID_PARAM,
                        {
                            "name": "wait",
                            "in": "query",
                            "schema": {"type": "number", "minimum": 0, "default": 0},
                            "description": "Seconds to wait for it to finish; more than 30 waits 30.",
                        },
                    ],
                    "responses": {
                        "200": _json(_ref("Result"), "Its result, or `pending`."),
                        "400": ERROR,
                        "404": ERROR,
                    },
                }
            },
            "/api/dead": {
                "get": {
                    "summary": "Dead letters, optionally of one worker.",
                    "parameters": [
                        {
                            "name": "worker",
                            "in": "query",
                            "schema": {"type": "string", "pattern": NAME_PATTERN},
                        }
                    ],
                    "responses": {
                        "200": _json({"type": "array", "items": _ref("Message")}, "Dead letters."),
                        "400": ERROR,
                    },
                }
            },
            "/api/dead/retry": {
                "post": {
                    "summary": "Queue dead letters again with fresh attempts: one by id or all of a worker.",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": dead_target}},
                    },
                    "responses": {
                        "200": _json(
                            {"type": "object", "properties": {"retried": {"type": "integer"}}}, "Retried."
                        ),
                        "400": ERROR,
                    },
                }
            },
            "/api/dead/discard": {
                "post": {
                    "summary": "Delete dead letters: one by id or all of a worker.",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": dead_target}},
                    },
                    "responses": {
                        "200": _json(
                            {"type": "object", "properties": {"discarded": {"type": "integer"}}}, "Discarded."
                        ),
                        "400": ERROR,
                    },
                }
            },
            "/api/unknown": {
                "get": {
                    "summary": "Workers emitted to that no running app defines (the 404 list).",
                    "responses": {
                        "200": _json({"type": "array", "items": _ref("UnknownWorker")}, "Unknown workers.")
                    },
                }
            },
            "/api/schedules": {
                "get": {
                    "summary": "The schedules live runners publish (and the served app's own), by name.",
                    "responses": {
                        "200": _json({"type": "array", "items": _ref("ScheduleStatus")}, "Schedules.")
                    },
                }
            },
            "/api/schedules/{name}/pause": _schedule_change("Stop ticking a schedule (durable).", True),
            "/api/schedules/{name}/resume": _schedule_change(
                "Tick a schedule again (missed ticks follow its misfire policy).", False
            ),
            "/api/stream": {
                "get": {
                    "summary": "Server-sent events for the dashboard: `section` events with rendered HTML.",
                    "parameters": [
                        {
                            "name": "worker",
                            "in": "query",
                            "schema": {"type": "string", "pattern": NAME_PATTERN},
                        },
                        {"name": "state", "in": "query", "schema": {"enum": STATES}},
                    ],
                    "responses": {
                        "200": {
                            "description": "An event stream.",
                            "content": {"text/event-stream": {"schema": {"type": "string"}}},
                        },
                        "400": ERROR,
                        "503": ERROR,
                    },
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus text format.",
                    "responses": {
                        "200": {
                            "description": "Metrics.",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
            "/messages/{id}": {
                "get": {
                    "summary": "The page of one message (HTML), with its kept traces.",
                    "parameters": [
                        ID_PARAM,
                        {
                            "name": "worker",
                            "in": "query",
                            "schema": {"type": "string", "pattern": NAME_PATTERN},
                            "description": "The message's worker: shows its kept traces once it is done.",
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "The page.",
                            "content": {"text/html": {"schema": {"type": "string"}}},
                        },
                        "400": ERROR,
                        "404": {
                            "description": "Nothing is stored or kept of this message.",
                            "content": {"text/html": {"schema": {"type": "string"}}},
                        },
                    },
                }
            },
            "/": {
                "get": {
                    "summary": "The dashboard (HTML).",
                    "parameters": [
                        {
                            "name": "worker",
                            "in": "query",
                            "schema": {"type": "string", "pattern": NAME_PATTERN},
                        },
                        {"name": "state", "in": "query", "schema": {"enum": STATES}},
                    ],
                    "responses": {
                        "200": {
                            "description": "The page.",
                            "content": {"text/html": {"schema": {"type": "string"}}},
                        },
                        "400": ERROR,
                    },
                }
            },
        },
    }
    for item in document["paths"].values():
        for method, operation in item.items():
            if "requestBody" in operation:
                operation["responses"].setdefault("413", ERROR)
            if method in ("post", "delete"):
                operation["parameters"] = [*operation.get("parameters", []), WRITE_HEADER]
                operation["responses"].setdefault("403", ERROR)
    return document
