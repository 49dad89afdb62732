"""Serving the web face with uvicorn in a background thread of this process (``conveyor run``/``web``)."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import uvicorn
    from starlette.applications import Starlette

    from .._app import App

__all__ = ["MIN_TOKEN", "WebServer", "check_bind", "check_token", "is_loopback"]


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    host = host.strip().strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1, as a dual-stack server reports IPv4 clients
    return address.is_loopback


MIN_TOKEN = 16
"""The shortest token accepted to serve beyond loopback."""


def check_token(token: str) -> str:
    """A token must travel in an HTTP header as it is: printable ASCII, no spaces (else ValueError)."""
    if not all("!" <= ch <= "~" for ch in token):
        raise ValueError(
            "CONVEYOR_TOKEN must be printable ASCII without spaces (it travels in an HTTP header as it is); "
            "generate one with: python -c 'import secrets; print(secrets.token_urlsafe())'"
        )
    return token


def check_bind(host: str, token: str | None) -> None:
    """Refuse to listen beyond loopback without a token, or with one shorter than 16 characters
    (ValueError)."""
    if is_loopback(host):
        return
    if not token:
        raise ValueError(
            f"refusing to serve on {host}: set CONVEYOR_TOKEN to serve beyond loopback "
            "(every request will then need Authorization: Bearer <token>)"
        )
    check_token(token)
    if len(token) < MIN_TOKEN:
        raise ValueError(
            f"refusing to serve on {host} with a token of {len(token)} characters: beyond loopback "
            f"CONVEYOR_TOKEN must be {MIN_TOKEN} characters or more "
            "(python -c 'import secrets; print(secrets.token_urlsafe())')"
        )


class WebServer:
    """The dashboard and API of ``app`` on ``host:port`` (port 0: any free port), in a daemon thread."""

    def __init__(
        self,
        app: App,
        host: str = "127.0.0.1",
        port: int = 8765,
        token: str | None = None,
        *,
        poll: float = 0.5,
        max_streams: int = 100,
    ) -> None:
        from ._site import create_app

        self.token = os.environ.get("CONVEYOR_TOKEN", "") if token is None else token
        check_bind(host, self.token)
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"port must be 0..65535, not {port!r}")
        self.host = host
        self.port = port
        self.asgi: Starlette = create_app(app, token=self.token, poll=poll, max_streams=max_streams)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def start(self, timeout: float = 10.0) -> str:
        """Bind, start serving, and return the address (OSError if the port is taken)."""
        import uvicorn

        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host.strip("[]"), self.port))
            sock.listen(128)
        except OSError:
            sock.close()
            raise
        self._socket = sock
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.asgi,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=2,
            access_log=False,
            server_header=False,
        )
        server = uvicorn.Server(config)
        self._server = server

        def serve() -> None:
            try:
                asyncio.run(server.serve(sockets=[sock]))
            except BaseException as error:  # reported by start(); the thread must not die silently
                self._error = error

        self._thread = threading.Thread(target=serve, name="conveyor-web", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if self._error is not None or not self._thread.is_alive():
                raise RuntimeError(f"the web server failed to start: {self._error!r}")
            if time.monotonic() > deadline:
                raise RuntimeError("the web server did not start in time")
            time.sleep(0.02)
        return self.url

    def stop(self, timeout: float = 10.0) -> None:
        self.asgi.state.conveyor.close()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> WebServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
