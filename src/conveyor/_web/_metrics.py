"""``/metrics``: Prometheus text, computed from the store (the only source of truth).

Gauges are exact and computed at scrape time from ``app.status()``:
``conveyor_queue_depth{worker,state}``, ``conveyor_worker_paused``, ``conveyor_worker_blocked``,
``conveyor_rate_held_messages{worker}`` (rate-limited workers),
``conveyor_worker_unknown``; and per schedule, from ``app.schedules()``:
``conveyor_schedule_next_run_timestamp_seconds``, ``conveyor_schedule_last_run_timestamp_seconds``
(Unix time) and ``conveyor_schedule_paused``.

Counters and histograms are kept by this web process, from a sample of the store every ``interval``
seconds (and at every scrape), so they count what happened on *every* runner and host, starting at 0
when the web process starts:

- ``conveyor_messages_completed_total`` / ``conveyor_messages_failed_total`` and the
  ``conveyor_wait_seconds`` / ``conveyor_run_seconds`` histograms come from the traces that appeared
  since the last sample. A worker keeps its last 10 traces (and last 10 failures), so they are exact
  while a worker finishes fewer than about 10 messages per sample, and a lower bound beyond.
- ``conveyor_messages_dead_total`` adds up the rises of the dead-letter count between samples.
- ``conveyor_messages_emitted_total`` is derived: growth of the outstanding messages (queued,
  scheduled, running, dead) + completed + removed through this web process (purge, dead discard).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from .._app import App

__all__ = ["Metrics"]

WAIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
RUN_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


class _Depth(Collector):
    def __init__(self, app: App) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "conveyor_queue_depth", "Messages per worker and state, now.", labels=["worker", "state"]
        )
        paused = GaugeMetricFamily("conveyor_worker_paused", "1 if the worker is paused.", labels=["worker"])
        blocked = GaugeMetricFamily(
            "conveyor_worker_blocked", "1 if the worker is blocked.", labels=["worker"]
        )
        unknown = GaugeMetricFamily(
            "conveyor_worker_unknown", "1 if no running app defines the worker (a 404).", labels=["worker"]
        )
        held = GaugeMetricFamily(
            "conveyor_rate_held_messages",
            "Due messages the worker's rate limit holds back now (0 while it allows starts).",
            labels=["worker"],
        )
        for s in self.app.status().values():
            for state in ("queued", "scheduled", "running", "dead"):
                depth.add_metric([s.name, state], getattr(s, state))
            paused.add_metric([s.name], int(s.paused))
            blocked.add_metric([s.name], int(s.blocked is not None))
            unknown.add_metric([s.name], int(s.unknown))
            if s.rate is not None:
                held.add_metric([s.name], s.queued if s.rate_limited else 0)
        yield from (depth, paused, blocked, unknown, held)


class _Schedules(Collector):
    def __init__(self, app: App) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        labels = ["schedule", "worker"]
        next_run = GaugeMetricFamily(
            "conveyor_schedule_next_run_timestamp_seconds",
            "When the schedule's next tick is due (Unix time); absent while paused or unknown.",
            labels=labels,
        )
        last_run = GaugeMetricFamily(
            "conveyor_schedule_last_run_timestamp_seconds",
            "The schedule's last emitted tick (Unix time); absent before its first.",
            labels=labels,
        )
        paused = GaugeMetricFamily("conveyor_schedule_paused", "1 if the schedule is paused.", labels=labels)
        for s in self.app.schedules():
            if s.next_at is not None and not s.paused:
                next_run.add_metric([s.name, s.worker], s.next_at.timestamp())
            if s.last_at is not None:
                last_run.add_metric([s.name, s.worker], s.last_at.timestamp())
            paused.add_metric([s.name, s.worker], int(s.paused))
        yield from (next_run, last_run, paused)


class Metrics:
    def __init__(self, app: App, interval: float = 0.5) -> None:
        self.app = app
        self.interval = interval
        self.registry = CollectorRegistry(auto_describe=False)
        labels = ["worker"]
        self.emitted = Counter(
            "conveyor_messages_emitted",
            "Messages emitted (derived, see docs).",
            labels,
            registry=self.registry,
        )
        self.completed = Counter(
            "conveyor_messages_completed", "Messages whose handler returned.", labels, registry=self.registry
        )
        self.failed = Counter(
            "conveyor_messages_failed", "Attempts that raised or timed out.", labels, registry=self.registry
        )
        self.dead = Counter(
            "conveyor_messages_dead", "Messages that became dead letters.", labels, registry=self.registry
        )
        self.wait = Histogram(
            "conveyor_wait_seconds",
            "Queue wait: enqueued to started.",
            labels,
            buckets=WAIT_BUCKETS,
            registry=self.registry,
        )
        self.run = Histogram(
            "conveyor_run_seconds",
            "Handler run time: started to finished.",
            labels,
            buckets=RUN_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_Depth(app))
        self.registry.register(_Schedules(app))
        self._lock = threading.Lock()
        self._seen: dict[str, set[tuple[int, int, float]]] = {}
        self._outstanding: dict[str, int] = {}
        self._dead: dict[str, int] = {}
        self._removed: dict[str, int] = {}
        self._baseline = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def removed(self, worker: str | None, count: int) -> None:
        """Messages removed through this process (they left the outstanding count without running)."""
        if worker is not None and count:
            with self._lock:
                self._removed[worker] = self._removed.get(worker, 0) + count

    def sample(self) -> None:
        with self._lock:
            status = self.app.status()
            first = not self._baseline
            self._baseline = True
            for name, s in status.items():
                outstanding = s.queued + s.scheduled + s.running + s.dead
                keys = {
                    (t.message_id, t.attempt, t.finished_at.timestamp()): t for t in self.app.traces(name)
                }
                if first:
                    self._seen[name], self._outstanding[name], self._dead[name] = (
                        set(keys),
                        outstanding,
                        s.dead,
                    )
                    continue
                seen = self._seen.get(name, set())
                completed = 0
                for key, trace in keys.items():
                    if key in seen:
                        continue
                    if trace.outcome == "ok":
                        completed += 1
                    elif trace.outcome in ("error", "timeout", "lost"):
                        self.failed.labels(name).inc()
                    self.wait.labels(name).observe(max(0.0, trace.wait))
                    self.run.labels(name).observe(max(0.0, trace.duration))
                if completed:
                    self.completed.labels(name).inc(completed)
                emitted = (
                    outstanding - self._outstanding.get(name, 0) + completed + self._removed.pop(name, 0)
                )
                if emitted > 0:
                    self.emitted.labels(name).inc(emitted)
                if s.dead > self._dead.get(name, 0):
                    self.dead.labels(name).inc(s.dead - self._dead.get(name, 0))
                self._seen[name], self._outstanding[name], self._dead[name] = set(keys), outstanding, s.dead

    def render(self) -> tuple[bytes, str]:
        self.sample()
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    # -- the sampling thread ---------------------------------------------------------------------
    def ensure_started(self) -> None:
        if self._thread is not None or self._stop.is_set():
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="conveyor-metrics", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(Exception):  # a store hiccup must not end sampling; next one retries
                self.sample()
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(5)
