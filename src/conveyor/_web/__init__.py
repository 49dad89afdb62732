"""The web face: a mountable ASGI app (JSON API, live dashboard, metrics) and a server to run it.

>>> from conveyor._web import create_app          # doctest: +SKIP
>>> asgi = create_app(app)                          # mount it in your own Starlette/FastAPI app
"""

from ._server import WebServer, check_bind, is_loopback
from ._site import create_app

__all__ = ["WebServer", "check_bind", "create_app", "is_loopback"]
