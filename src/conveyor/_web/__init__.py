"""The web face: a mountable ASGI app (JSON API, live dashboard, metrics) and a server to run it.

Importing this package does not import Starlette: ``conveyor.web`` works with the ``web`` extra
installed (``pip install "conveyor[web]"``) and says so otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._server import WebServer, check_bind, is_loopback

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from .._app import App

__all__ = ["WebServer", "check_bind", "create_app", "is_loopback", "web"]


def web(
    app: App,
    *,
    token: str | None = None,
    allowed_hosts: list[str] | None = None,
    poll: float = 0.5,
    max_streams: int = 100,
    max_wait: float = 30.0,
) -> Starlette:
    """The dashboard, JSON API, ``/metrics`` and ``/openapi.json`` of ``app`` as an ASGI app.

    Serve it alone (``uvicorn.run(conveyor.web(app))``) or mount it in your own Starlette/FastAPI
    app: ``Mount("/conveyor", app=conveyor.web(app))``.

    ``token``: the bearer token every request must carry (default ``$CONVEYOR_TOKEN``; ``""``: none;
    printable ASCII). Without a token only loopback clients are answered, under loopback host names
    or ``allowed_hosts``: behind a proxy, set a token. Writes need the ``X-Conveyor-Request`` header.
    ``poll``: seconds between live dashboard updates and metrics samples. ``max_streams``: how many
    live dashboard streams may be open at once (503 past it). ``max_wait``: the longest a result long
    poll (``GET /api/messages/{id}/result?wait=``) waits before it answers ``pending``.
    """
    try:
        from ._site import create_app as build
    except ImportError as error:  # pragma: no cover - depends on the installed extras
        raise ImportError(
            f'conveyor.web needs the web extra: pip install "conveyor[web]" ({error})'
        ) from error
    return build(
        app, token=token, allowed_hosts=allowed_hosts, poll=poll, max_streams=max_streams, max_wait=max_wait
    )


create_app = web
