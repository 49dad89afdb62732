"""The outermost layer of the web face: security headers on every answer, JSON for every error.

- ``Content-Security-Policy`` (scripts and styles from this site's files only, no inline script,
  ``frame-ancestors 'none'``), ``X-Frame-Options: DENY``, ``X-Content-Type-Options: nosniff`` and
  ``Referrer-Policy: no-referrer`` on everything; ``Cache-Control: no-store`` on everything but the
  static files (API answers carry queue data; the dashboard too).
- An error answer that is not JSON (the static files' 400/404/405/416, written by Starlette as
  plain text) is rewritten as ``{"error": ...}`` with its status and headers kept. HTML error pages
  (the sign-in form) are left as they are.
"""

from __future__ import annotations

from http import HTTPStatus

import orjson
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CSP", "Envelope"]

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
_SECURITY = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


class Envelope:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        root = str(scope.get("root_path") or "")
        path = str(scope.get("path") or "")
        static = path[len(root) :].startswith("/static/") if path.startswith(root) else False
        held: Message | None = None  # the start of a plain-text error, sent once its body is known
        body = b""

        async def wrapped(message: Message) -> None:
            nonlocal held, body
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _SECURITY.items():
                    headers[name] = value
                if not static:
                    headers["cache-control"] = "no-store"
                content_type = headers.get("content-type", "")
                if message["status"] >= 400 and not content_type.startswith(
                    ("application/json", "text/html")
                ):
                    held = message
                    return
            elif message["type"] == "http.response.body" and held is not None:
                body += message.get("body", b"")
                if message.get("more_body", False):
                    return
                await send(_json_start(held, body))
                await send({"type": "http.response.body", "body": _json_body(held["status"], body)})
                return
            await send(message)

        await self.app(scope, receive, wrapped)


def _message(status: int, body: bytes) -> str:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "error"
    text = body.decode("utf-8", "replace").strip()[:200]
    return f"{phrase}: {text}" if text and text != phrase else phrase


def _json_body(status: int, body: bytes) -> bytes:
    return orjson.dumps({"error": _message(status, body)})


def _json_start(start: Message, body: bytes) -> Message:
    headers = MutableHeaders(raw=[(k, v) for k, v in start["headers"]])
    headers["content-type"] = "application/json"
    headers["content-length"] = str(len(_json_body(start["status"], body)))
    return {"type": "http.response.start", "status": start["status"], "headers": headers.raw}
