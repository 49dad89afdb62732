"""Run handlers: async ones on the loop, sync ones on a pool of threads fed from one queue.

Sync handlers do not pay a future and a loop wake-up each: a thread takes jobs from a shared queue,
runs them one after another while there are any, and hands finished jobs back in batches (one
``call_soon_threadsafe`` per batch, not per job). Quick handlers therefore stay on one or two warm
threads; slow ones spread over up to ``slots`` threads.

Timeouts: an async handler is cancelled. A sync handler cannot be: when it passes its timeout its job
is failed at once and its thread is written off (a new one takes its place, so no slot is lost). If the
thread still has not returned after a grace period the runner asks to be replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .._codec import encode_result
from .._context import HandlerContext, current
from .._control import Cancel, Incomplete, Retry
from .._registry import WorkerSpec
from .._stores import Claimed
from .._typed import EventMismatch
from ._settle import storable, text_of

__all__ = ["OK", "Job", "Outcome", "SyncPool", "encoded", "outcome_of", "timeout_outcome"]

_GROW_AFTER = 0.01
"""Seconds queued jobs may sit without any job starting before the pool adds threads (longer than the
interpreter's 5 ms switch interval, so a runnable thread waiting for the GIL is not taken for a blocked
one)."""


@dataclass(slots=True)
class Outcome:
    kind: str  # "ok", "error", "incomplete", "retry", "cancelled", "timeout"
    result: Any = None
    error: str | None = None
    traceback: str | None = None
    encoded: str | None = None
    """The result as the trace shows it (JSON text), once the runner has encoded it."""
    delay: float | None = None
    """``incomplete`` and ``retry``: the seconds the handler asked for (None: the default)."""
    final: bool = False
    """An ``error`` that running again cannot help (a stored event that no longer fits the worker's
    event type): a dead letter at once, whatever attempts are left."""


OK = Outcome("ok")


def outcome_of(exc: BaseException) -> Outcome:
    """A failure from what a handler raised; its texts are storable even when the exception's own
    ``__str__`` raises or holds characters a store refuses."""
    text = text_of(exc)
    if isinstance(exc, Incomplete | Retry):
        kind, name = ("incomplete", "Incomplete") if isinstance(exc, Incomplete) else ("retry", "Retry")
        return Outcome(kind, error=storable(f"{name}: {text}" if text else name), delay=exc.delay)
    if isinstance(exc, Cancel):
        return Outcome("cancelled", error=storable(text))
    if isinstance(exc, EventMismatch):
        return Outcome("error", error=storable(f"ValueError: {text}"), traceback=_traceback(exc), final=True)
    return Outcome("error", error=storable(f"{type(exc).__name__}: {text}"), traceback=_traceback(exc))


def encoded(outcome: Outcome) -> Outcome:
    """An ``ok`` outcome with its result encoded for the trace; a result that cannot be shown (not
    JSON, and its ``repr()`` raises) fails the message instead."""
    result = outcome.result
    try:
        text = encode_result(result)
    except BaseException as exc:  # user code: the result's __repr__
        error = (
            f"TypeError: the handler returned a {type(result).__name__} that is not JSON and whose "
            f"repr() raised {type(exc).__name__}: {text_of(exc)}"
        )
        return Outcome("error", error=storable(error), traceback=_traceback(exc))
    return Outcome("ok", result, encoded=text)


def _traceback(exc: BaseException) -> str:
    try:
        return storable("".join(traceback.format_exception(exc)))
    except BaseException as error:
        return f"{type(exc).__name__}: the traceback could not be formatted ({type(error).__name__})"


def timeout_outcome(spec: WorkerSpec) -> Outcome:
    return Outcome("timeout", error=f"TimeoutError: the handler ran past its timeout of {spec.timeout:g} s")


class Job:
    """One sync handler call. The pool's threads and the loop share it under the GIL."""

    __slots__ = ("abandoned", "args", "claimed", "ctx", "deadline", "outcome", "spec", "stuck_at", "thread")

    def __init__(self, spec: WorkerSpec, claimed: Claimed, ctx: HandlerContext, args: Sequence[Any]) -> None:
        self.spec = spec
        self.claimed = claimed
        self.ctx = ctx
        self.args = args
        self.deadline: float | None = None
        """Monotonic time the handler must return by; set when a thread starts it."""
        self.outcome: Outcome | None = None
        self.abandoned = False
        """Timed out or released: whatever the thread returns is thrown away."""
        self.stuck_at: float | None = None
        self.thread: threading.Thread | None = None


class SyncPool:
    """Threads that run sync jobs; ``on_done`` gets finished jobs on the loop, in batches."""

    def __init__(self, slots: int, on_done: Callable[[list[Job]], None]) -> None:
        self.target = slots
        self._on_done = on_done
        self._jobs: deque[Job] = deque()
        self._tokens: queue.SimpleQueue[bool] = queue.SimpleQueue()
        """One True per idle thread woken up; False asks a thread to end."""
        self._done: deque[Job] = deque()
        self._notified = False
        self._threads: set[threading.Thread] = set()
        self._idle = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._checking = False
        self._started = 0
        self.running: dict[int, Job] = {}
        """Jobs a thread is running now, by id(job)."""
        self.stuck: dict[int, Job] = {}
        """Jobs that passed their timeout and whose thread has not returned yet."""

    def submit(self, jobs: Sequence[Job]) -> None:
        """Queue jobs and wake one thread; more threads only if queued jobs stop moving."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        self._jobs.extend(jobs)
        self._kick(1)
        if not self._checking:
            self._checking = True
            self._loop.call_later(_GROW_AFTER, self._check, self._started)

    def _check(self, started: int) -> None:
        """While jobs wait: if none started since the last look, every busy thread is blocked: wake
        idle threads and add new ones for the waiting jobs."""
        waiting = len(self._jobs)
        if not waiting or self._loop is None:
            self._checking = False
            return
        if self._started == started:
            self._kick(waiting)
        self._loop.call_later(_GROW_AFTER, self._check, self._started)

    def _kick(self, wanted: int) -> None:
        with self._lock:
            wake = min(wanted, self._idle)
            self._idle -= wake
            start = min(wanted - wake, self.target - len(self._threads))
            for _ in range(max(0, start)):
                thread = threading.Thread(target=self._work, name="conveyor-handler", daemon=True)
                self._threads.add(thread)
                thread.start()
        for _ in range(wake):
            self._tokens.put(True)

    def write_off(self, job: Job) -> None:
        """A job past its timeout: its thread no longer counts, and a fresh one may take its place."""
        job.abandoned = True
        job.stuck_at = time.monotonic()
        self.stuck[id(job)] = job
        with self._lock:
            self.target += 1

    def _work(self) -> None:
        me = threading.current_thread()
        jobs = self._jobs
        running = self.running
        while True:
            try:
                job = jobs.popleft()
            except IndexError:
                with self._lock:
                    if len(self._threads) > self.target:
                        self._threads.discard(me)
                        return
                    self._idle += 1
                if not self._tokens.get():  # False: shut down
                    with self._lock:
                        self._threads.discard(me)
                    return
                continue
            if job.abandoned:
                continue
            job.thread = me
            timeout = job.spec.timeout
            job.deadline = None if timeout is None else time.monotonic() + timeout
            running[id(job)] = job
            self._started += 1
            token = current.set(job.ctx)
            try:
                result = job.spec.handler(*job.args)
                job.outcome = OK if result is None else Outcome("ok", result)
            except BaseException as exc:
                job.outcome = outcome_of(exc)
            finally:
                current.reset(token)
                running.pop(id(job), None)
            self._finished(job)
            if job.stuck_at is not None:  # this thread was written off and came back
                with self._lock:
                    self.target -= 1
                    if len(self._threads) > self.target:
                        self._threads.discard(me)
                        return

    def _finished(self, job: Job) -> None:
        self._done.append(job)
        if not self._notified:
            self._notified = True
            loop = self._loop
            if loop is not None and not loop.is_closed():
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                    loop.call_soon_threadsafe(self._collect)

    def _collect(self) -> None:
        self._notified = False
        done = self._done
        batch = []
        while done:
            job = done.popleft()
            if job.stuck_at is not None:
                self.stuck.pop(id(job), None)
            batch.append(job)
        if batch:
            self._on_done(batch)

    def shutdown(self) -> None:
        """Stop the idle threads; busy ones end after their job (they are daemon threads)."""
        with self._lock:
            self.target = 0
            count = len(self._threads)
            self._jobs.clear()
        for _ in range(count):
            self._tokens.put(False)
