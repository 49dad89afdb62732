"""The supervisor: N runner processes, restarted when they die, stopped gracefully on SIGTERM/SIGINT.

Runner processes are fresh interpreters (``python -m conveyor._runtime._child``) that import the app by
reference, rather than forks: the supervisor may share its process with a web server thread and an open
SQLite connection, and neither survives a fork safely. Children run in their own process group, so a
terminal's Ctrl-C reaches only the supervisor, which forwards one SIGTERM to each (a second Ctrl-C
forwards another: release now). Exit codes tell the supervisor why a child ended (``_serve``).
The supervisor sleeps in ``select`` on the children's pidfds and a self-pipe: it does not poll.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import FrameType, ModuleType
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from .._stores import open_store
from ._child import SPEC_ENV, STOP_SIGNALS
from ._logs import logging_config
from ._runner import DEFAULT_SLOTS, Runner, RunnerOptions
from ._serve import EXIT_CONFIG, EXIT_OK, EXIT_RETIRED, EXIT_STUCK, serve_runner

if TYPE_CHECKING:
    from .._app import App

__all__ = ["Supervisor", "SupervisorOptions", "app_ref", "request_stop", "run_app"]

log = logging.getLogger("conveyor.supervisor")


class _Stoppable(Protocol):
    def stop(self) -> None: ...


_active: set[_Stoppable] = set()
_active_lock = threading.Lock()


def request_stop() -> None:
    """Stop every supervisor running in this process, as SIGTERM would (for callers not on the main
    thread, which cannot rely on signal handlers)."""
    with _active_lock:
        for sup in list(_active):
            sup.stop()


@dataclass(frozen=True, slots=True)
class SupervisorOptions:
    ref: str
    """How a child imports the app: ``module:attr`` or ``path/to/file.py:attr``."""
    store: str
    processes: int
    slots: int
    grace: float = 30.0
    max_tasks: int | None = None
    max_memory: int | None = None
    """Bytes."""
    env: dict[str, str] = field(default_factory=dict)


class _Process(Protocol):
    pid: int

    def poll(self) -> int | None: ...

    def send_signal(self, sig: int) -> None: ...

    def kill(self) -> None: ...

    def wait(self, timeout: float | None = None) -> int: ...


class _Forked:
    """A forked runner, with the part of ``Popen``'s interface the supervisor uses."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = 1
                return 1
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            _pid, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode


@dataclass(slots=True)
class _Child:
    slot: int
    process: _Process
    started: float
    pidfd: int | None


class Supervisor:
    RESTART_MIN = 0.05
    RESTART_MAX = 5.0
    HEALTHY_AFTER = 10.0
    """A child that lived this long resets its slot's restart backoff."""
    KILL_MARGIN = 10.0
    """Seconds past the grace period after which children still alive are killed."""

    def __init__(self, options: SupervisorOptions, fork_app: App | None = None) -> None:
        self.options = options
        self._fork_app = fork_app
        """Fork runners from this process (it holds no thread and no open store); else spawn them."""
        self.restarts = 0
        self._children: dict[int, _Child] = {}
        self._crashes: dict[int, int] = {}
        self._due: dict[int, float] = {}
        """slot -> monotonic time to (re)start its child."""
        self._stopping = False
        self._signals = 0
        self._deadline: float | None = None
        self._fatal: str | None = None
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)

    # -- control -----------------------------------------------------------------------------------
    def stop(self) -> None:
        """Ask for a graceful stop (thread- and signal-safe). A second call releases in-flight work now."""
        self._signals += 1
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"s")

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.stop()

    # -- the loop ------------------------------------------------------------------------------------
    def run(self) -> None:
        """Block until stopped and every child has exited. Raises RuntimeError if the app cannot load."""
        previous: dict[signal.Signals, Any] = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous[sig] = signal.signal(sig, self._on_signal)
        with _active_lock:
            _active.add(self)
        try:
            now = time.monotonic()
            for slot in range(self.options.processes):
                self._due[slot] = now
            self._loop()
        finally:
            with _active_lock:
                _active.discard(self)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            for child in list(self._children.values()):  # only after an error inside the loop
                with contextlib.suppress(OSError):
                    child.process.kill()
                child.process.wait()
                self._forget(child)
            os.close(self._wake_r)
            os.close(self._wake_w)
        if self._fatal is not None:
            raise RuntimeError(self._fatal)

    def _loop(self) -> None:
        handled_signals = 0
        while True:
            if self._signals > handled_signals:
                handled_signals = self._signals
                self._begin_stop(handled_signals)
            if not self._stopping:
                self._start_due()
            elif not self._children:
                return
            self._sleep()
            self._reap()
            if self._stopping and self._deadline is not None and time.monotonic() >= self._deadline:
                for child in self._children.values():
                    log.error("runner pid %d did not stop in time; killing it", child.process.pid)
                    with contextlib.suppress(OSError):
                        child.process.kill()
                self._deadline = None

    def _begin_stop(self, signals: int) -> None:
        if not self._stopping:
            self._stopping = True
            self._due.clear()
            self._deadline = time.monotonic() + self.options.grace + self.KILL_MARGIN
            log.info("stopping %d runners (grace %g s)", len(self._children), self.options.grace)
        elif signals > 1:
            self._deadline = min(self._deadline or float("inf"), time.monotonic() + self.KILL_MARGIN)
            log.info("stopping now: in-flight messages go back to the queue")
        for child in self._children.values():
            with contextlib.suppress(OSError):
                child.process.send_signal(signal.SIGTERM)

    def _sleep(self) -> None:
        now = time.monotonic()
        timeout: float | None = None
        if self._due:
            timeout = max(0.0, min(self._due.values()) - now)
        if self._deadline is not None:
            left = max(0.0, self._deadline - now)
            timeout = left if timeout is None else min(timeout, left)
        fds = [self._wake_r]
        polling = False
        for child in self._children.values():
            if child.pidfd is None:
                polling = True
            else:
                fds.append(child.pidfd)
        if polling:
            timeout = 0.2 if timeout is None else min(timeout, 0.2)
        with contextlib.suppress(InterruptedError):
            select.select(fds, [], [], timeout)
        with contextlib.suppress(OSError):
            while os.read(self._wake_r, 512):
                pass

    def _start_due(self) -> None:
        now = time.monotonic()
        for slot, due in list(self._due.items()):
            if due <= now:
                del self._due[slot]
                self._spawn(slot)

    def _spawn(self, slot: int) -> None:
        o = self.options
        spec = {
            "ref": o.ref,
            "store": o.store,
            "slots": o.slots,
            "grace": o.grace,
            "max_tasks": o.max_tasks,
            "max_memory": o.max_memory,
            "parent": os.getpid(),
            "index": slot,
            **_log_spec(),
        }
        if self._fork_app is not None:
            process: _Process = self._fork(spec)
        else:
            process = self._popen(spec)
        pidfd: int | None = None
        with contextlib.suppress(AttributeError, OSError):
            pidfd = os.pidfd_open(process.pid)
        self._children[slot] = _Child(slot, process, time.monotonic(), pidfd)
        log.info("runner %d started (pid %d)", slot, process.pid)

    def _fork(self, spec: dict[str, Any]) -> _Forked:
        from ._child import run_forked

        keep_out = [self._wake_r, self._wake_w] + [c.pidfd for c in self._children.values() if c.pidfd]
        # A SIGTERM that reached the child before it reset its handlers would run this process's handler
        # in the child and be lost there (the runner would then ignore the stop): hold SIGINT/SIGTERM
        # across the fork; the child lets them in once its own handling is in place (run_forked).
        held = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        pid = os.fork()
        if pid == 0:  # the child: never returns
            try:
                for fd in keep_out:
                    with contextlib.suppress(OSError):
                        os.close(fd)
                assert self._fork_app is not None
                run_forked(self._fork_app, spec)
            finally:
                os._exit(1)
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        return _Forked(pid)

    def _popen(self, spec: dict[str, Any]) -> subprocess.Popen[bytes]:
        o = self.options
        env = dict(os.environ)
        env.update(o.env)
        env[SPEC_ENV] = orjson.dumps(spec).decode()
        paths = [p for p in sys.path if p]
        if env.get("PYTHONPATH"):
            paths.append(env["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(paths)
        return subprocess.Popen(
            [sys.executable, "-m", "conveyor._runtime._child"],
            env=env,
            stdin=subprocess.DEVNULL,
            process_group=0,
            close_fds=True,
        )

    def _reap(self) -> None:
        for slot, child in list(self._children.items()):
            code = child.process.poll()
            if code is None:
                continue
            self._forget(child)
            del self._children[slot]
            if self._stopping:
                if code not in (EXIT_OK, EXIT_RETIRED, EXIT_STUCK):
                    log.warning(
                        "runner pid %d exited with %s while stopping", child.process.pid, _describe(code)
                    )
                continue
            self._after_exit(child, code)

    def _after_exit(self, child: _Child, code: int) -> None:
        now = time.monotonic()
        pid = child.process.pid
        self.restarts += 1
        if code == EXIT_CONFIG:
            self._fatal = (
                f"runner pid {pid} could not load the app {self.options.ref!r} (see its error above)"
            )
            log.error("%s; stopping", self._fatal)
            self.stop()
            return
        if code == EXIT_RETIRED:
            log.info("runner pid %d retired (max tasks or memory); starting a fresh one", pid)
            self._due[child.slot] = now
            return
        if code == EXIT_STUCK:
            log.warning("runner pid %d had a handler stuck past its timeout; replacing it", pid)
            self._due[child.slot] = now
            return
        if now - child.started >= self.HEALTHY_AFTER:
            self._crashes[child.slot] = 0
        crashes = self._crashes.get(child.slot, 0) + 1
        self._crashes[child.slot] = crashes
        delay = min(self.RESTART_MAX, self.RESTART_MIN * 2 ** (crashes - 1))
        log.warning("runner pid %d died (%s); restarting in %.2f s", pid, _describe(code), delay)
        self._due[child.slot] = now + delay

    @staticmethod
    def _forget(child: _Child) -> None:
        if child.pidfd is not None:
            with contextlib.suppress(OSError):
                os.close(child.pidfd)
            child.pidfd = None

    def pids(self) -> list[int]:
        return [c.process.pid for c in self._children.values()]


def _log_spec() -> dict[str, Any]:
    """How runner processes log: as ``configure_logging`` set this process up, else at the level
    this process's ``conveyor`` logger has, in text."""
    config = logging_config()
    if config is None:
        return {"log_level": logging.getLogger("conveyor").getEffectiveLevel(), "log_format": "text"}
    return {"log_level": config[0], "log_format": config[1]}


def _describe(code: int) -> str:
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


def app_ref(app: object, modules: dict[str, ModuleType] | None = None) -> str | None:
    """A reference a fresh interpreter can import ``app`` by, or None when none is found.

    Modules imported by name give ``module:attr``; a script run as ``__main__`` and a file loaded by
    path (``conveyor run path/app.py``) give ``path/to/file.py:attr``.
    """
    found: list[tuple[int, str]] = []
    for name, module in list((modules or sys.modules).items()):
        try:
            items = list(vars(module).items())
        except TypeError:
            continue
        for attr, value in items:
            if value is not app or attr.startswith("__"):
                continue
            file = getattr(module, "__file__", None)
            spec = getattr(module, "__spec__", None)
            if name == "__main__":
                if spec is not None and spec.name and spec.name != "__main__":
                    found.append((1, f"{spec.name}:{attr}"))  # python -m package.module
                elif file:
                    found.append((1, f"{os.path.abspath(file)}:{attr}"))
            elif name.startswith("_conveyor_app_") and file:
                found.append((2, f"{os.path.abspath(file)}:{attr}"))
            else:
                found.append((0, f"{name}:{attr}"))
    return min(found)[1] if found else None


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
) -> None:
    """``App.run``: validate, then supervise runner processes (or, where no other process can open the
    store or import the app, serve one runner in this process)."""
    check_count("processes", processes)
    check_count("concurrency", concurrency)
    check_count("max_tasks_per_child", max_tasks_per_child)
    grace = check_seconds("grace", grace)
    memory: int | None = None
    if max_memory_per_child is not None:
        memory = int(check_seconds("max_memory_per_child (MB)", max_memory_per_child, positive=True) * 2**20)
    if not len(app.registry):
        raise ValueError("this app defines no workers: nothing to run")
    slots = concurrency or DEFAULT_SLOTS
    url = app.url
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
        with _in_process_stop() as register:
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
