"""A runner that starts while PostgreSQL cannot be reached (restarted by the supervisor in the middle of a
database restart) waits for it with backoff instead of failing as if the app were misconfigured."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from urllib.parse import urlsplit, urlunsplit

import pytest

import conveyor
from conveyor._runtime._child import open_store_patiently


class _LateForwarder:
    """Listens on ``port`` only from ``start()`` on, and forwards each connection to the real server."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()  # nothing listens here until start()
        self._server: socket.socket | None = None

    def start(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen()
        self._server = server
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        assert self._server is not None
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(a, b), daemon=True).start()

    def close(self) -> None:
        if self._server is not None:
            self._server.close()


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


def test_a_runner_waits_for_an_unreachable_database_then_opens_the_store(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    parts = urlsplit(pg_url)
    forwarder = _LateForwarder((parts.hostname or "127.0.0.1", parts.port or 5432))
    netloc = (
        f"{parts.username}@127.0.0.1:{forwarder.port}" if parts.username else f"127.0.0.1:{forwarder.port}"
    )
    app = conveyor.App(urlunsplit(parts._replace(netloc=netloc)))
    app.worker("w")(lambda event: None)
    done = threading.Event()
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            open_store_patiently(app, first_delay=0.05, max_delay=0.2)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        done.set()

    caplog.set_level(logging.WARNING, logger="conveyor.runner")
    threading.Thread(target=open_it, daemon=True).start()
    try:
        time.sleep(0.8)
        assert not done.is_set(), "gave up while the database was unreachable"
        forwarder.start()
        assert done.wait(10) and not errors, errors
        mid = app.emit({"i": 1}, "w")
        assert [m.id for m in app.messages()] == [mid]
    finally:
        app.close()
        forwarder.close()
    waits = [r for r in caplog.records if "cannot open the store" in r.getMessage()]
    assert len(waits) >= 2 and "retrying in" in waits[0].getMessage()


@pytest.mark.parametrize("url", ["mysql://nowhere/db", "postgresql://127.0.0.1/db?schema=no-such!"])
def test_a_store_that_can_never_work_is_reported_at_once(url: str) -> None:
    app = conveyor.App(url)
    started = time.monotonic()
    with pytest.raises(ValueError):
        open_store_patiently(app, first_delay=5.0)
    assert time.monotonic() - started < 1.0
