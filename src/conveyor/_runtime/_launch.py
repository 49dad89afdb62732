"""``App.run``: validate the options, then supervise runner processes, or, where no other process
could open the store or import the app, serve one runner in this process."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from .._stores import open_store
from .._stores._budget import is_postgres, role_url, runner_share
from ._liveness import DEFAULT_STALE, Liveness, in_process_pulse, serving
from ._runner import DEFAULT_SLOTS, Runner, RunnerOptions
from ._serve import serve_runner
from ._supervisor import Supervisor, SupervisorOptions, _active, _active_lock, app_ref

if TYPE_CHECKING:
    from .._app import App

__all__ = ["check_count", "check_seconds", "default_processes", "run_app"]

log = logging.getLogger("conveyor.supervisor")


def default_processes() -> int:
    return max(1, os.cpu_count() or 1)


def check_count(what: str, value: object, *, optional: bool = True) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} must be an int >= 1{' or None' if optional else ''}, not {value!r}")


def check_seconds(what: str, value: object, *, positive: bool = False) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not (value > 0 if positive else value >= 0)
    ):
        raise ValueError(f"{what} must be seconds {'> 0' if positive else '>= 0'}, not {value!r}")
    return float(value)


def run_app(
    app: App,
    processes: int | None,
    concurrency: int | None,
    *,
    grace: float = 30.0,
    max_tasks_per_child: int | None = None,
    max_memory_per_child: float | None = None,
    max_connections: int | None = None,
    liveness_timeout: float = DEFAULT_STALE,
) -> None:
    """``App.run``: validate, then supervise runner processes (or, where no other process can open the
    store or import the app, serve one runner in this process)."""
    check_count("processes", processes)
    check_count("concurrency", concurrency)
    check_count("max_tasks_per_child", max_tasks_per_child)
    check_count("max_connections", max_connections)
    grace = check_seconds("grace", grace)
    stale = check_seconds("liveness_timeout", liveness_timeout, positive=True)
    memory: int | None = None
    if max_memory_per_child is not None:
        memory = int(check_seconds("max_memory_per_child (MB)", max_memory_per_child, positive=True) * 2**20)
    if not len(app.registry):
        raise ValueError("this app defines no workers: nothing to run")
    slots = concurrency or DEFAULT_SLOTS
    url = app.url
    share = None
    if max_connections is not None:
        if not is_postgres(url):
            raise ValueError("max_connections bounds PostgreSQL connections; this store is not PostgreSQL")
        share = runner_share(max_connections, processes or default_processes(), web=False)
    in_memory = url.rstrip("/").endswith(":memory:")
    was_open = app._store is not None  # opened (and migrated) here already
    if not in_memory:
        # Runners open stores of their own. Closing this one first also stops its threads (a
        # PostgreSQL pool's workers), which would otherwise rule out forking the runners.
        app.close()
    fork = not in_memory and _can_fork()
    ref = app_ref(app) if not fork else (app_ref(app) or "<forked>")
    if in_memory or ref is None:
        why = (
            "an in-memory store cannot be shared with other processes"
            if in_memory
            else "the app is not a module-level name that a runner process could import"
        )
        if processes not in (None, 1):
            raise ValueError(f"processes={processes}: {why}; use processes=1 (one runner in this process)")
        log.warning("%s: running one runner in this process, without a supervisor", why)
        if share is not None:
            app.use_store(role_url(url, "runner", share))
        runner = Runner(
            app.registry,
            app.store,
            app.emitter,
            RunnerOptions(
                slots=slots,
                lease=app.lease,
                incomplete_delay=app.incomplete_delay,
                max_tasks=max_tasks_per_child,
                max_memory=memory,
            ),
        )
        liveness = Liveness(stale)
        runner.pulse = in_process_pulse(liveness)
        with _in_process_stop() as register, serving(liveness):
            serve_runner(runner, grace, on_ready=register)
        return
    if not was_open:
        # Migrate once, before the runners race to; then fork from a process that holds no
        # connection (nothing of SQLite or a pool may cross a fork).
        open_store(url).close()
    Supervisor(
        SupervisorOptions(
            ref=ref,
            store=url,
            processes=processes or default_processes(),
            slots=slots,
            grace=grace,
            max_tasks=max_tasks_per_child,
            max_memory=memory,
            stale=stale,
            connections=share,
        ),
        fork_app=app if fork else None,
    ).run()


def _can_fork() -> bool:
    """Fork runners when this process has no other thread (a web server, a database pool): a fork
    copies only the calling thread, so locks other threads hold would stay locked in the child.
    ``CONVEYOR_RUNNER_START=spawn`` forces fresh interpreters that import the app."""
    how = os.environ.get("CONVEYOR_RUNNER_START", "auto")
    if how not in ("auto", "fork", "spawn"):
        raise ValueError(f"CONVEYOR_RUNNER_START must be auto, fork or spawn, not {how!r}")
    if how == "spawn" or not hasattr(os, "fork"):
        return False
    return threading.active_count() == 1


@contextlib.contextmanager
def _in_process_stop() -> Iterator[Callable[[Callable[[], None]], None]]:
    """Let ``request_stop`` reach a runner served in this process."""
    stoppers: list[Callable[[], None]] = []

    class _Handle:
        def stop(self) -> None:
            for s in stoppers:
                s()

    handle = _Handle()
    with _active_lock:
        _active.add(handle)
    try:
        yield stoppers.append
    finally:
        with _active_lock:
            _active.discard(handle)
