"""A runner process started by the supervisor: ``python -m conveyor._runtime._child``.

It re-imports the app by reference (``module:attr`` or ``path/file.py:attr``), so it shares nothing
with its parent: no SQLite connection, no lock, no thread crosses a fork. Its settings come in the
environment variable ``CONVEYOR_RUNNER`` (JSON). It dies with its supervisor (Linux
``PR_SET_PDEATHSIG``: a SIGTERM, so it still releases its messages).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import sys
import time
import traceback
from typing import TYPE_CHECKING, Any, NoReturn

import orjson

from ._liveness import Pulse

if TYPE_CHECKING:
    from ._runner import RunnerOptions

__all__ = ["SPEC_ENV", "STOP_SIGNALS", "main", "open_store_patiently"]

log = logging.getLogger("conveyor.runner")

SPEC_ENV = "CONVEYOR_RUNNER"
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # the supervisor died before prctl took effect
        os._exit(0)


def run_forked(app: Any, spec: dict[str, Any]) -> NoReturn:
    """The runner in a child forked by the supervisor: ``app`` is the parent's, its store closed."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_DFL)
    # The supervisor held these across the fork; one that came meanwhile now ends this process before
    # it claims anything (the runner installs its graceful handling when it starts serving).
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    os.setpgid(0, 0)
    _die_with_parent(int(spec["parent"]))
    from ._logs import configure_logging, has_user_handlers

    if not has_user_handlers():  # the app's own logging setup, inherited, is kept
        configure_logging(spec.get("log_level", logging.INFO), spec.get("log_format", "text"))
    try:
        app.use_store(spec["store"])  # a connection of this process's own
        pulse = _pulse(spec)
        open_store_patiently(app, pulse=pulse)
        from ._runner import Runner

        runner = Runner(app.registry, app.store, app.emitter, _options(app, spec))
        runner.pulse = pulse
    except BaseException:
        traceback.print_exc()
        _exit(1)
    _serve_and_exit(runner, spec)


def _pulse(spec: dict[str, Any]) -> Pulse | None:
    fd = spec.get("pulse_fd")
    return None if fd is None else Pulse(int(fd))


def open_store_patiently(
    app: Any, first_delay: float = 0.1, max_delay: float = 5.0, *, pulse: Pulse | None = None
) -> None:
    """Open the app's store, waiting out a database that cannot be reached yet (a runner restarted
    while PostgreSQL restarts): one warning per attempt, backoff up to ``max_delay`` seconds. A store
    that can never work (a bad URL, a schema from a newer Conveyor, a missing driver: ValueError,
    TypeError, RuntimeError) raises at once. ``pulse`` beats at every attempt: waiting for the
    database is alive (``/readyz`` reports the store, not ``/healthz``)."""
    delay = first_delay
    while True:
        if pulse is not None:
            pulse.beat()
        try:
            app.store  # noqa: B018 - opens, connects and migrates
            return
        except (ValueError, TypeError, RuntimeError):
            raise
        except Exception as error:
            log.warning("cannot open the store (%s); retrying in %.1f s", _one_line(error), delay)
            app.close()
            time.sleep(delay)
            delay = min(max_delay, delay * 2)


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def _serve_and_exit(runner: Any, spec: dict[str, Any]) -> NoReturn:
    code = 1
    try:
        from ._serve import serve_runner

        code = serve_runner(runner, float(spec["grace"]))
    except BaseException:
        traceback.print_exc()
    _exit(code)


def _exit(code: int) -> NoReturn:
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    # os._exit: a sync handler that will not return holds a thread, which must not keep us alive.
    os._exit(code)


def _options(app: Any, spec: dict[str, Any]) -> RunnerOptions:
    from ._runner import RunnerOptions

    return RunnerOptions(
        slots=int(spec["slots"]),
        lease=app.lease,
        incomplete_delay=app.incomplete_delay,
        max_tasks=spec.get("max_tasks"),
        max_memory=spec.get("max_memory"),
        hint_delay=0.001 * int(spec.get("index", 0)),
    )


def main() -> None:
    from ._serve import EXIT_CONFIG

    spec: dict[str, Any] = orjson.loads(os.environ[SPEC_ENV])
    _die_with_parent(int(spec["parent"]))
    from ._logs import configure_logging

    configure_logging(spec.get("log_level", logging.INFO), spec.get("log_format", "text"))
    try:
        from .._loader import load_app

        app = load_app(spec["ref"])
        if app.url != spec["store"]:
            app.use_store(spec["store"])
        pulse = _pulse(spec)
        # An unreachable database is waited for, not a configuration error.
        open_store_patiently(app, pulse=pulse)
        from ._runner import Runner

        runner = Runner(app.registry, app.store, app.emitter, _options(app, spec))
        runner.pulse = pulse
    except Exception:
        sys.stderr.write(f"conveyor runner: cannot start {spec['ref']!r}:\n{traceback.format_exc()}")
        sys.stderr.flush()
        os._exit(EXIT_CONFIG)

    _serve_and_exit(runner, spec)


if __name__ == "__main__":
    main()
