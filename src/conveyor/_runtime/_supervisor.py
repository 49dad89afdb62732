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
from dataclasses import dataclass, field
from types import FrameType, ModuleType
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from .._stores._budget import role_url
from ._child import SPEC_ENV, STOP_SIGNALS
from ._liveness import BEAT_EVERY, DEFAULT_STALE, Heartbeats, Liveness, serving
from ._logs import logging_config
from ._serve import EXIT_CONFIG, EXIT_OK, EXIT_RETIRED, EXIT_STUCK

if TYPE_CHECKING:
    from .._app import App

__all__ = ["Supervisor", "SupervisorOptions", "app_ref", "request_stop"]

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
    stale: float = DEFAULT_STALE
    """Seconds without a loop turn after which ``/healthz`` fails (``_liveness``)."""
    connections: int | None = None
    """PostgreSQL connections each runner process may open (``max_connections`` in its store URL)."""


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
        self.liveness = Liveness(options.stale)
        self._beats = Heartbeats(self.liveness)

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
            with serving(self.liveness):
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
            self._beats.close()
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
            self._beats.read(self._sleep())
            self._reap()
            if self._stopping and self._deadline is not None and time.monotonic() >= self._deadline:
                for child in self._children.values():
                    log.error("runner pid %d did not stop in time; killing it", child.process.pid)
                    with contextlib.suppress(OSError):
                        child.process.kill()
                self._deadline = None
            self._publish()

    def _publish(self) -> None:
        children = [(c.slot, c.process.pid, c.started) for c in self._children.values()]
        self._beats.publish(children, list(self._due), self._stopping)

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

    def _sleep(self) -> list[int]:
        """Until a child exits, a signal, a beat, or the next thing due (at most ``BEAT_EVERY``, so
        that the loop turns, and says so to ``/healthz``, at least that often); the fds ready."""
        now = time.monotonic()
        timeout: float = BEAT_EVERY
        if self._due:
            timeout = min(timeout, max(0.0, min(self._due.values()) - now))
        if self._deadline is not None:
            timeout = min(timeout, max(0.0, self._deadline - now))
        fds = [self._wake_r, *self._beats.fds()]
        polling = False
        for child in self._children.values():
            if child.pidfd is None:
                polling = True
            else:
                fds.append(child.pidfd)
        if polling:
            timeout = min(timeout, 0.2)
        ready: list[int] = []
        with contextlib.suppress(InterruptedError):
            ready = select.select(fds, [], [], timeout)[0]
        with contextlib.suppress(OSError):
            while os.read(self._wake_r, 512):
                pass
        return ready

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
        spec["store"] = role_url(o.store, "runner", o.connections)
        pulse = spec["pulse_fd"] = self._beats.open(slot)
        try:
            if self._fork_app is not None:
                process: _Process = self._fork(spec)
            else:
                process = self._popen(spec)
        finally:
            os.close(pulse)
        pidfd: int | None = None
        with contextlib.suppress(AttributeError, OSError):
            pidfd = os.pidfd_open(process.pid)
        self._children[slot] = _Child(slot, process, time.monotonic(), pidfd)
        log.info("runner %d started (pid %d)", slot, process.pid)

    def _fork(self, spec: dict[str, Any]) -> _Forked:
        from ._child import run_forked

        keep_out = [self._wake_r, self._wake_w, *self._beats.fds()]
        keep_out += [c.pidfd for c in self._children.values() if c.pidfd]
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
            pass_fds=(int(spec["pulse_fd"]),),
        )

    def _reap(self) -> None:
        for slot, child in list(self._children.items()):
            code = child.process.poll()
            if code is None:
                continue
            self._forget(child)
            del self._children[slot]
            self._beats.forget(slot)
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
