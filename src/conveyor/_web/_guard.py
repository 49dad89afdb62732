"""Who may talk to the web face: bearer token, loopback clients, and no cross-site writes.

- With a token (``$CONVEYOR_TOKEN``) every request needs ``Authorization: Bearer <token>``, compared
  in constant time. A browser gets the same token into an HttpOnly, SameSite=Strict cookie through the
  sign-in form (``POST <root>/sign-in``) or by opening the dashboard once as ``<root>/?token=<token>``;
  ``?token=`` is accepted on the dashboard page only. A browser that opens any other dashboard page
  without the token is sent (303) to ``<root>/?next=<that page>``, the sign-in form, and back to the
  page after sign-in; ``next`` is followed only to a path under this app's root. ``/api/…`` and the
  other machine paths answer a JSON 401. The dashboard's CSS and script, and the health probes
  ``/healthz`` and ``/readyz``, are served without the token.
- Without a token only loopback clients (the connection's address, ``request.client``) whose ``Host``
  is a loopback name or one of ``allowed_hosts`` are answered: a remote client behind a proxy that
  sends ``Host: localhost`` is refused, and a web page cannot reach the API through DNS rebinding.
- A state-changing request (not GET/HEAD/OPTIONS) needs the header ``X-Conveyor-Request`` (the
  dashboard sends it; a cross-site form cannot), and is refused when a browser marks it as coming
  from another site (``Sec-Fetch-Site: cross-site|same-site``, or, without ``Sec-Fetch-Site:
  same-origin``, an ``Origin`` other than this host).
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ._health import HEALTH_PATHS
from ._http import json_error
from ._server import is_loopback
from ._views import NAV

if TYPE_CHECKING:
    from ._site import Site

__all__ = ["COOKIE", "WRITE_HEADER", "Guard", "local_path"]

COOKIE = "conveyor_token"
WRITE_HEADER = "X-Conveyor-Request"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SIGN_IN = "/sign-in"
SIGN_IN_BYTES = 8192
PAGE_PATHS = frozenset(path for _, path, _ in NAV) - {"/"}  # the dashboard's pages but the sign-in one
PAGE_PREFIXES = ("/workers/", "/messages/")  # a worker's page, a message's page


def local_path(candidate: str, root: str) -> str:
    """``candidate`` if it is a path under ``root`` on this site, else the dashboard (``root/``)."""
    home = root.rstrip("/") + "/"
    parts = urlsplit(candidate)
    if (
        candidate.startswith(home)
        and not candidate.startswith("//")
        and "\\" not in candidate
        and all("!" <= ch <= "~" for ch in candidate)
        and not parts.scheme
        and not parts.netloc
    ):
        return candidate
    return home


def is_page(inner: str) -> bool:
    """Whether ``inner`` (a path under the root) is one of the dashboard's HTML pages."""
    if inner in PAGE_PATHS:
        return True
    prefix = next((p for p in PAGE_PREFIXES if inner.startswith(p)), None)
    return prefix is not None and "/" not in inner[len(prefix) :] and inner != prefix


def page_path(request: Request) -> str:
    """The path and query string ``request`` asked for, percent-encoded, ``?token=`` left out."""
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
    path = quote(request.url.path, safe="/-._~:@!$&'()*+,;=")
    return path + (f"?{query}" if query else "")


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
        response = await self.check(Request(scope, receive))
        if response is not None:
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _valid(self, candidate: str | None) -> bool:
        return candidate is not None and hmac.compare_digest(candidate.encode(), self.token)

    async def check(self, request: Request) -> Response | None:
        root = str(request.scope.get("root_path") or "")
        path = request.url.path
        inner = path[len(root) :] if root and path.startswith(root) else path
        host = (request.headers.get("host") or "").lower()
        if not self.token:
            client = request.client.host if request.client is not None else None
            if client is None or not is_loopback(client):
                return json_error(
                    403,
                    f"client {client or 'of unknown address'} refused: without a token only loopback clients "
                    "are answered; to serve other clients (behind a proxy too) set CONVEYOR_TOKEN",
                )
            hostname = urlsplit(f"//{host}").hostname or ""
            if not (is_loopback(hostname) or hostname in self.allowed_hosts):
                return json_error(
                    403,
                    f"host {host[:100]!r} refused: without CONVEYOR_TOKEN only loopback host names "
                    "are answered",
                )
        if request.method not in SAFE_METHODS:
            site = request.headers.get("sec-fetch-site")
            origin = request.headers.get("origin")
            if site in ("cross-site", "same-site"):
                return json_error(403, "cross-site request refused")
            # A browser that says same-origin is believed (a page cannot forge Sec-Fetch-Site): its
            # forms send "Origin: null" under this site's Referrer-Policy: no-referrer.
            vouched = site == "same-origin"
            if (
                not vouched
                and origin is not None
                and (origin == "null" or urlsplit(origin).netloc.lower() != host)
            ):
                return json_error(403, f"cross-origin request from {origin[:100]!r} refused")
        if self.token and not (inner in HEALTH_PATHS and request.method in ("GET", "HEAD")):
            if inner == SIGN_IN and request.method == "POST":
                return await self._sign_in(request, root)
            denied = self._authenticate(request, root, inner)
            if denied is not None:
                return denied
        if request.method not in SAFE_METHODS and not request.headers.get(WRITE_HEADER):
            return json_error(
                403,
                f"a write needs the header {WRITE_HEADER}: 1 (the dashboard sends it; "
                "it keeps other sites' forms from writing)",
            )
        return None

    def _signed_in(self, request: Request, root: str, location: str, token: str) -> Response:
        response = RedirectResponse(location, 303)
        response.set_cookie(
            COOKIE,
            token,
            path=root or "/",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    async def _sign_in(self, request: Request, root: str) -> Response:
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > SIGN_IN_BYTES:
                return json_error(413, f"the sign-in form is over {SIGN_IN_BYTES} bytes")
        fields = dict(parse_qsl(body.decode("utf-8", "replace")))
        next_path = local_path(fields.get("next", ""), root)
        offered = fields.get("token", "")
        if self._valid(offered):
            return self._signed_in(request, root, next_path, offered)
        html = self.site.pages.sign_in(root, next_path, wrong=True)
        return HTMLResponse(html, status_code=401, headers={"WWW-Authenticate": "Bearer"})

    def _authenticate(self, request: Request, root: str, inner: str) -> Response | None:
        if inner.startswith("/static/") and request.method in ("GET", "HEAD"):
            return None  # the dashboard's CSS and script: no data, needed by the sign-in page
        scheme, _, credentials = (request.headers.get("authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and self._valid(credentials.strip()):
            return None
        if self._valid(request.cookies.get(COOKIE)):
            return None
        dashboard = inner in ("", "/")
        home = root.rstrip("/") + "/"
        offered = request.query_params.get("token")
        next_path = request.query_params.get("next")
        query = urlencode(
            [(k, v) for k, v in request.query_params.multi_items() if k not in ("token", "next")]
        )
        here = home + (f"?{query}" if query else "")
        if next_path is not None:
            here = local_path(next_path, root)
        if request.method == "GET" and dashboard and offered is not None and self._valid(offered):
            return self._signed_in(request, root, here, offered)
        wants_html = "text/html" in request.headers.get("accept", "")
        if request.method == "GET" and wants_html and dashboard:
            html = self.site.pages.sign_in(root, local_path(here, root), wrong=offered is not None)
            return HTMLResponse(html, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        if request.method in ("GET", "HEAD") and wants_html and is_page(inner):
            return RedirectResponse(f"{home}?{urlencode({'next': page_path(request)})}", 303)
        return json_error(
            401,
            "missing or wrong bearer token (Authorization: Bearer $CONVEYOR_TOKEN)",
            {"WWW-Authenticate": "Bearer"},
        )
