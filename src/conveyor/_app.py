"""App: the face users hold. A registry of workers, a store URL, admin calls, and drain/run."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from ._aemit import EmitThread, aemit, aemit_many
from ._codec import storable_text
from ._control import DEFAULT_MAX_SNOOZES
from ._emitter import MAX_DELAY, Emitter
from ._groups import emit_group
from ._message import STATES, Message, State, Trace, UnknownWorker, WorkerStatus
from ._rates import Rate, RateSpec, parse_rate
from ._registry import Backoff, Handler, Registry, WorkerSpec, check_worker_name
from ._results import ResultHub, check_timeout, outcome_value, refuse_in_handler
from ._runtime import DEFAULT_SLOTS, Runner, RunnerOptions
from ._schedule_admin import schedule_statuses, set_schedule_paused
from ._schedules import ScheduleSpec, ScheduleStatus
from ._stores import RateState, Store, open_store, resolve_url

__all__ = ["App"]

H = TypeVar("H", bound=Handler)


class App:
    """The registry of workers plus the store they share.

    Nothing is opened until first use: creating an ``App`` at import time touches no file or database.
    ``store`` is a URL (``sqlite:///conveyor.db``, ``postgresql://…``); default ``$CONVEYOR_STORE``,
    else ``sqlite:///conveyor.db``. An already open store may be passed instead, to share one between
    several apps in a process (an in-memory SQLite store can only be shared that way).
    """

    def __init__(
        self,
        store: str | Store | None = None,
        *,
        lease: float = 30.0,
        incomplete_delay: float = 300.0,
        max_event_bytes: int = 1_048_576,
    ) -> None:
        for what, value in (("lease", lease), ("incomplete_delay", incomplete_delay)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= MAX_DELAY:
                raise ValueError(
                    f"{what} must be seconds > 0 and at most {MAX_DELAY:,.0f}, not {value!r:.40}"
                )
        if isinstance(max_event_bytes, bool) or not isinstance(max_event_bytes, int) or max_event_bytes < 2:
            raise ValueError(f"max_event_bytes must be an int >= 2, not {max_event_bytes!r}")
        if isinstance(store, str) and not store.strip():
            raise ValueError("the store URL is empty: give sqlite:///path.db or postgresql://…, or None")
        self._url: str | None = store if isinstance(store, str) or store is None else store.url
        self.lease = float(lease)
        self.incomplete_delay = float(incomplete_delay)
        self.max_event_bytes = max_event_bytes
        self.registry = Registry()
        self._store: Store | None = None if isinstance(store, str) or store is None else store
        self._emitter: Emitter | None = None
        self._hub: ResultHub | None = None
        self._emit_thread = EmitThread()
        self._lock = threading.Lock()

    # -- workers ---------------------------------------------------------------------------------
    def worker(
        self,
        name: str,
        *,
        concurrency: int | None = None,
        max_attempts: int = 5,
        backoff: Backoff = 1.0,
        timeout: float | None = 300.0,
        traces: int = 10,
        loop_limit: int | None = 1000,
        max_snoozes: int = DEFAULT_MAX_SNOOZES,
        rate: RateSpec | None = None,
        results: float | None = None,
    ) -> Callable[[H], H]:
        """Define a worker: ``@app.worker("send-email")`` over ``def handle(event)`` or ``(event, msg)``.
        ``results``: seconds to keep each message's outcome after it finished, for ``result``."""
        check_worker_name(name)
        limit = None if rate is None else parse_rate(rate)

        def register(handler: H) -> H:
            spec = WorkerSpec.build(
                name,
                handler,
                concurrency=concurrency,
                max_attempts=max_attempts,
                backoff=backoff,
                timeout=timeout,
                traces=traces,
                loop_limit=loop_limit,
                max_snoozes=max_snoozes,
                rate=limit,
                results=results,
            )
            self.registry.add(spec)
            return handler

        return register

    # -- schedules (docs/schedules.md) -----------------------------------------------------------
    def schedule(
        self,
        name: str,
        worker: str,
        event: Any = None,
        *,
        cron: str | None = None,
        every: float | None = None,
        tz: str = "UTC",
        misfire: str = "latest",
    ) -> None:
        """Emit ``event`` to ``worker`` on ``cron=`` (read in ``tz``) or ``every=`` seconds; runners of
        this app tick it, each tick exactly once across all of them. ValueError for bad input."""
        spec = ScheduleSpec.build(
            name,
            worker,
            event,
            cron=cron,
            every=every,
            tz=tz,
            misfire=misfire,
            max_event_bytes=self.max_event_bytes,
        )
        self.registry.schedules.add(spec)

    def schedules(self) -> list[ScheduleStatus]:
        """This app's schedules and those live runners define, by name."""
        return schedule_statuses(self.registry.schedules, self.store)

    def pause_schedule(self, name: str) -> None:
        set_schedule_paused(self.registry.schedules, self.store, name, True)

    def resume_schedule(self, name: str) -> None:
        """Resume a paused schedule; the ticks it missed follow its ``misfire`` policy."""
        set_schedule_paused(self.registry.schedules, self.store, name, False)

    # -- the store -------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return resolve_url(self._url)

    @property
    def store(self) -> Store:
        """The open store (opened, and migrated, on first use)."""
        if self._store is None:
            with self._lock:
                if self._store is None:
                    self._store = open_store(self.url)
        return self._store

    @property
    def emitter(self) -> Emitter:
        if self._emitter is None:
            self._emitter = Emitter(self.registry, self.store, self.max_event_bytes)
        return self._emitter

    @property
    def results_hub(self) -> ResultHub:
        """The app's result waiters: one thread and one listener for all of them (``_results.py``)."""
        if self._hub is None:
            with self._lock:
                if self._hub is None:
                    self._hub = ResultHub(self.store)
        return self._hub

    def use_store(self, url: str) -> None:
        """Point this app at another store (the CLI's ``--store``). Closes the current one."""
        self.close()
        self._url = url

    def close(self) -> None:
        self._emit_thread.close()
        if self._hub is not None:
            self._hub.close()
            self._hub = None
        if self._store is not None:
            self._store.close()
        self._store = None
        self._emitter = None

    # -- emitting --------------------------------------------------------------------------------
    def emit(  # noqa: PLR0917 - the contract's signature
        self,
        event: Any,
        worker: str,
        delay: float | None = None,
        at: datetime | None = None,
        key: str | None = None,
        conn: Any = None,
        *,
        priority: int = 0,
    ) -> int:
        """Enqueue ``event`` for ``worker``; return the message id (an existing one for a live ``key``).
        ``priority``: -100 to 100, higher claimed first within the worker."""
        return self.emitter.emit(event, worker, delay=delay, at=at, key=key, conn=conn, priority=priority)

    def emit_many(self, items: Iterable[tuple[Any, ...]], then: tuple[Any, ...] | None = None) -> list[int]:
        """Enqueue many ``(event, worker)`` or ``(event, worker, {"delay":…, "key":…, "priority":…})``
        items in one transaction; all or none. ``then=(event, worker)`` (or with ``{"delay":…,
        "priority":…}``): once every item's message finished (done, dead or cancelled), emit that message,
        exactly once; its ``Message.group`` lists the items' ids (docs/results.md)."""
        if then is None:
            return self.emitter.emit_many(items)
        return emit_group(self.emitter, items, then)

    async def aemit(  # noqa: PLR0917 - the contract's signature
        self,
        event: Any,
        worker: str,
        delay: float | None = None,
        at: datetime | None = None,
        key: str | None = None,
        conn: Any = None,
        *,
        priority: int = 0,
    ) -> int:
        """``emit`` for coroutines: same arguments and errors; the store write runs on the app's emit
        thread, never blocking the event loop (docs/fitting-in.md)."""
        return await aemit(self.emitter, self._emit_thread, event, worker, delay, at, key, conn, priority)

    async def aemit_many(
        self, items: Iterable[tuple[Any, ...]], then: tuple[Any, ...] | None = None
    ) -> list[int]:
        """``emit_many`` for coroutines: same arguments and errors, never blocking the event loop."""
        return await aemit_many(self.emitter, self._emit_thread, items, then)

    # -- rules -----------------------------------------------------------------------------------
    def pause(self, name: str) -> None:
        self.store.set_paused(check_worker_name(name), True)

    def resume(self, name: str) -> None:
        self.store.set_paused(check_worker_name(name), False)

    def block(self, name: str, reason: str) -> None:
        if not isinstance(reason, str) or not reason.strip() or not storable_text(reason):
            raise ValueError("block needs a reason: a non-empty str without NUL or lone surrogates")
        self.store.set_blocked(check_worker_name(name), reason)

    def unblock(self, name: str) -> None:
        self.store.set_blocked(check_worker_name(name), None)

    # -- un-enqueue ------------------------------------------------------------------------------
    def cancel(self, id: int) -> bool:
        """Remove a queued or scheduled message. False if it is running, dead, done or unknown."""
        return self.store.cancel(_message_id(id))

    def purge(self, name: str) -> int:
        """Remove every queued and scheduled message of a worker; return how many."""
        return self.store.purge(check_worker_name(name))

    # -- reading ---------------------------------------------------------------------------------
    def status(self) -> dict[str, WorkerStatus]:
        """Every worker defined here or by a live runner, or emitted to, by name."""
        defined = set(self.registry.names()) | self.store.live_workers()
        out: dict[str, WorkerStatus] = {
            name: WorkerStatus(name, 0, 0, 0, 0, False, None, False) for name in defined
        }
        buckets = {b.worker: b for b in self.store.rate_states()}
        for c in self.store.counts():
            bucket = buckets.get(c.worker)
            out[c.worker] = WorkerStatus(
                c.worker,
                c.queued,
                c.scheduled,
                c.running,
                c.dead,
                c.paused,
                c.blocked,
                c.worker not in defined,
                rate_limited=bucket is not None and c.queued > 0 and bucket.wait > 0,
            )
        return {
            name: _with_rate(s, self.registry.get(name), buckets.get(name)) for name, s in sorted(out.items())
        }

    def unknown(self) -> list[UnknownWorker]:
        """Workers that messages were emitted to but that no running app defines ("404")."""
        defined = set(self.registry.names()) | self.store.live_workers()
        return self.store.unknown(sorted(defined))

    def messages(
        self, worker: str | None = None, state: State | None = None, limit: int = 100
    ) -> list[Message]:
        """Messages oldest first (by ``run_at``), optionally of one worker and one state."""
        if worker is not None:
            check_worker_name(worker)
        if state is not None and state not in STATES:
            raise ValueError(f"state must be one of {', '.join(STATES)}, not {state!r}")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_ID:
            raise ValueError(f"limit must be an int from 1 to {MAX_ID}, not {_shown(limit)}")
        return self.store.messages(worker, state, limit)

    def message(self, id: int) -> Message | None:
        """One message by id (queued, scheduled, running or dead); None if there is none (it finished,
        was cancelled or discarded, or never existed)."""
        return self.store.message(_message_id(id))

    def traces(self, name: str) -> list[Trace]:
        """The kept traces of a worker, newest first."""
        return self.store.traces(check_worker_name(name))

    # -- results (docs/results.md) --------------------------------------------------------------
    def result(self, id: int, timeout: float | None = None) -> Any:
        """The return value of a message of a worker with ``results=``, once it finished (waiting up to
        ``timeout`` seconds; None: as long as it takes). Raises ``conveyor.Failed`` if it ended as a
        dead letter or was cancelled, ``TimeoutError`` past ``timeout``, ``LookupError`` for an id with
        no live message and no kept result, ``RuntimeError`` inside a handler (unless ``timeout=0``: a
        look without waiting)."""
        message_id, seconds = _message_id(id), check_timeout(timeout)
        refuse_in_handler(seconds)
        finished = self.results_hub.wait(message_id, seconds)
        if finished is None:
            raise TimeoutError(f"message {message_id} did not finish within {seconds:g} s")
        return outcome_value(finished)

    async def aresult(self, id: int, timeout: float | None = None) -> Any:
        """``result`` for coroutines: the event loop is never blocked while it waits."""
        message_id, seconds = _message_id(id), check_timeout(timeout)
        refuse_in_handler(seconds)
        finished = await self.results_hub.await_(message_id, seconds)
        if finished is None:
            raise TimeoutError(f"message {message_id} did not finish within {seconds:g} s")
        return outcome_value(finished)

    # -- dead letters ----------------------------------------------------------------------------
    def dead(self, worker: str | None = None) -> list[Message]:
        return self.messages(worker, "dead", limit=10_000)

    def retry_dead(self, id: int | None = None, worker: str | None = None) -> int:
        """Queue dead letters again with fresh attempts: one by id, all of a worker, or all."""
        return self.store.retry_dead(*_dead_target(id, worker))

    def discard_dead(self, id: int | None = None, worker: str | None = None) -> int:
        """Delete dead letters: one by id, all of a worker, or all."""
        return self.store.discard_dead(*_dead_target(id, worker))

    # -- running ---------------------------------------------------------------------------------
    def runner(self, concurrency: int | None = None) -> Runner:
        """A runner for this app's workers (what ``drain`` and ``conveyor run`` use)."""
        options = RunnerOptions(
            slots=concurrency or DEFAULT_SLOTS, lease=self.lease, incomplete_delay=self.incomplete_delay
        )
        return Runner(self.registry, self.store, self.emitter, options)

    def drain(self, timeout: float | None = None) -> int:
        """Process messages in this process until nothing it may claim is left; return how many.

        Paused, blocked, unknown and not-yet-due messages stay. Raises TimeoutError past ``timeout``.
        """

        async def go() -> int:
            return await asyncio.wait_for(self.runner().drain(), timeout)

        return int(_run_coroutine(go))

    def run(
        self,
        processes: int | None = None,
        concurrency: int | None = None,
        *,
        grace: float = 30.0,
        max_tasks_per_child: int | None = None,
        max_memory_per_child: float | None = None,
        max_connections: int | None = None,
        liveness_timeout: float = 20.0,
    ) -> None:
        """Run the workers until SIGTERM/SIGINT, as ``conveyor run`` does (see docs/running.md).

        ``processes`` runner processes (default: the CPU count), each running up to ``concurrency``
        messages at once (default 50). On a signal: stop claiming, let in-flight handlers finish within
        ``grace`` seconds, release the rest without using an attempt, return. A runner process is
        replaced after ``max_tasks_per_child`` messages or past ``max_memory_per_child`` MB.
        ``max_connections``: the most PostgreSQL connections the runner processes open together
        (each gets an equal share, at least 2; see docs/deploying.md). ``liveness_timeout``: seconds
        without a loop turn after which ``/healthz`` of this process answers 503.
        """
        from ._runtime._launch import run_app

        run_app(
            self,
            processes,
            concurrency,
            grace=grace,
            max_tasks_per_child=max_tasks_per_child,
            max_memory_per_child=max_memory_per_child,
            max_connections=max_connections,
            liveness_timeout=liveness_timeout,
        )

    def __repr__(self) -> str:
        return f"<conveyor.App {self.url} workers={self.registry.names()}>"


def _run_coroutine(factory: Callable[[], Any]) -> Any:
    """asyncio.run, also from a thread that already runs an event loop (Jupyter, async tests)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(factory())
        except BaseException as error:
            box["error"] = error

    thread = threading.Thread(target=target, name="conveyor-drain")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


MAX_ID = 2**63 - 1
"""The largest id a store holds (a signed 64-bit integer in both dialects)."""


def _message_id(value: object) -> int:
    if not isinstance(value, int):
        raise TypeError(f"a message id is an int, not {type(value).__name__}")
    if isinstance(value, bool) or not 1 <= value <= MAX_ID:
        raise ValueError(f"a message id is an int from 1 to {MAX_ID}, not {_shown(value)}")
    return value


def _shown(value: object) -> str:
    """``repr``, except of an int too long to print (Python refuses past 4,300 digits)."""
    if isinstance(value, int) and value.bit_length() > 128:
        return f"an int of {value.bit_length()} bits"
    return f"{value!r:.40}"


def _dead_target(message_id: int | None, worker: str | None) -> tuple[int | None, str | None]:
    if message_id is not None and worker is not None:
        raise ValueError("give id= or worker=, not both")
    return (
        None if message_id is None else _message_id(message_id),
        None if worker is None else check_worker_name(worker),
    )


def _with_rate(status: WorkerStatus, spec: WorkerSpec | None, bucket: RateState | None) -> WorkerStatus:
    """``status`` with its worker's rate: this app's, else the one its bucket was last moved under."""
    rate = spec.rate if spec is not None and spec.rate is not None else None
    if rate is None and bucket is not None:
        rate = Rate(bucket.n, bucket.period)
    return status if rate is None else replace(status, rate=str(rate))
