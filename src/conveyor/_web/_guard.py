"""Who may talk to the web face: bearer token, loopback host names, and no cross-site writes.

- With a token (``$CONVEYOR_TOKEN``) every request needs ``Authorization: Bearer <token>``, compared
  in constant time. A browser gets the same token into an HttpOnly, SameSite=Strict cookie by opening
  ``/?token=<token>`` once (the dashboard's sign-in form does that).
- Without a token only loopback host names (localhost, 127.0.0.0/8, ::1) and ``allowed_hosts`` are
  answered, so a web page cannot reach the API through DNS rebinding.
- A state-changing request (not GET/HEAD/OPTIONS) that a browser marks as coming from another site
  (``Sec-Fetch-Site: cross-site|same-site``, or an ``Origin`` other than this host) is refused.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ._server import is_loopback

if TYPE_CHECKING:
    from ._site import Site

__all__ = ["COOKIE", "Guard"]

COOKIE = "conveyor_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_SIGN_IN = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Conveyor: sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto">
<h1>Conveyor</h1><p>This dashboard needs the token it was started with (<code>CONVEYOR_TOKEN</code>).</p>
<form method="get" action=""><label>Token <input type="password" name="token" autofocus required></label>
<button type="submit">Sign in</button></form></body></html>"""


def _json(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps({"error": message}), status_code=status, media_type="application/json", headers=headers
    )


class Guard:
    def __init__(self, app: ASGIApp, token: str, allowed_hosts: list[str], site: Site) -> None:
        self.app = app
        self.token = token.encode()
        self.allowed_hosts = {h.lower() for h in allowed_hosts}
        self.site = site

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.site.metrics.ensure_started()
        response = self.check(Request(scope))
        if response is not None:
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _valid(self, candidate: str | None) -> bool:
        return candidate is not None and hmac.compare_digest(candidate.encode(), self.token)

    def check(self, request: Request) -> Response | None:
        host = (request.headers.get("host") or "").lower()
        hostname = urlsplit(f"//{host}").hostname or ""
        if not self.token and not (is_loopback(hostname) or hostname in self.allowed_hosts):
            return _json(
                403,
                f"host {host!r} refused: without CONVEYOR_TOKEN only loopback host names are answered",
            )
        if self.token:
            denied = self._authenticate(request)
            if denied is not None:
                return denied
        if request.method not in SAFE_METHODS:
            site = request.headers.get("sec-fetch-site")
            origin = request.headers.get("origin")
            if site in ("cross-site", "same-site"):
                return _json(403, "cross-site request refused")
            if origin is not None and (origin == "null" or urlsplit(origin).netloc.lower() != host):
                return _json(403, f"cross-origin request from {origin[:100]!r} refused")
        return None

    def _authenticate(self, request: Request) -> Response | None:
        scheme, _, credentials = (request.headers.get("authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and self._valid(credentials.strip()):
            return None
        if self._valid(request.cookies.get(COOKIE)):
            return None
        offered = request.query_params.get("token")
        if request.method == "GET" and offered is not None and self._valid(offered):
            query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
            response = RedirectResponse(request.url.path + (f"?{query}" if query else ""), 303)
            root = request.scope.get("root_path") or "/"
            response.set_cookie(
                COOKIE,
                offered,
                path=root,
                httponly=True,
                samesite="strict",
                secure=request.url.scheme == "https",
            )
            return response
        wants_html = "text/html" in request.headers.get("accept", "")
        dashboard = request.url.path.rstrip("/") == str(request.scope.get("root_path", "")).rstrip("/")
        if request.method == "GET" and wants_html and dashboard:
            return HTMLResponse(_SIGN_IN, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        return _json(
            401,
            "missing or wrong bearer token (Authorization: Bearer $CONVEYOR_TOKEN)",
            {"WWW-Authenticate": "Bearer"},
        )
