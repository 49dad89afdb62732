"""Shared by every driver (stdlib only: each driver runs in its own system's virtualenv).

A driver runs ONE workload for ONE system and prints one JSON line with the result. The protocol:

    python bench/peers/<system>_driver.py WORKLOAD --n N --slots S --out DIR [system options]

Workloads (the same for every system):

emit     N no-op messages enqueued one call at a time from this process; seconds and msgs/s.
drain    N no-op messages enqueued first (not timed); then the system's own workers are started and
         the clock runs from their start until the store/broker says the last message was acknowledged.
latency  workers started and warmed up; N messages emitted GAP seconds apart, each carrying its emit
         time; the handler appends its start time to a file; p50/p95/p99 of start - emit.
io       workers with S slots in all started and warmed up; N messages that each sleep SLEEP seconds
         enqueued in one batch; wall time from the start of that enqueue to the last acknowledgement.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

WORKLOADS = ("emit", "drain", "latency", "io", "delayed")
HERE = Path(__file__).resolve().parent


def parser(system: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"{system}_driver")
    p.add_argument("workload", choices=WORKLOADS)
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--slots", type=int, default=100, help="io: slots in all")
    p.add_argument("--gap", type=float, default=0.005, help="latency: seconds between emits")
    p.add_argument("--delay", type=float, default=0.05, help="delayed: each emit's delay, seconds")
    p.add_argument("--sleep", type=float, default=0.05, help="io: seconds each message sleeps")
    p.add_argument("--out", required=True, help="a scratch folder for logs and handler records")
    p.add_argument("--timeout", type=float, default=300.0, help="give up waiting after this many seconds")
    return p


def emit_result(result: dict[str, Any]) -> None:
    print(json.dumps(result), flush=True)


def wait_until(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.002) -> float:
    """Poll ``check`` until true; return the perf_counter() at which it was first seen true."""
    deadline = time.perf_counter() + timeout
    while True:
        if check():
            return time.perf_counter()
        if time.perf_counter() > deadline:
            raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def wait_drained(
    done: Callable[[], bool],
    progressed: Callable[[], bool],
    *,
    alive: Callable[[], None],
    t0: float,
    n: int,
    timeout: float,
    what: str,
) -> dict[str, float]:
    """Poll until ``done()``; note when ``progressed()`` (a first acknowledgement) was first seen.

    Returns the drain figures: ``seconds`` and ``rate`` from ``t0`` (worker start) to the last ack, and
    ``startup_s`` (worker start to the first ack seen) and ``steady_rate`` (n / time after that).
    """
    first: float | None = None
    deadline = time.perf_counter() + timeout
    while True:
        alive()
        if first is None and progressed():
            first = time.perf_counter()
        if done():
            end = time.perf_counter()
            first = end if first is None else first
            return {
                "seconds": end - t0,
                "rate": n / (end - t0),
                "startup_s": first - t0,
                "steady_rate": n / max(end - first, 1e-6),
            }
        if time.perf_counter() > deadline:
            raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(0.005)


class Workers:
    """The system's own worker processes, in a process group of their own, stopped on exit."""

    def __init__(self, argv: Sequence[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.argv = list(argv)
        self.log_path = log
        self._log = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            self.argv,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            cwd=HERE,
            start_new_session=True,
        )

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise RuntimeError(
                f"workers exited with {self.proc.returncode}: {' '.join(self.argv)}\n{self.tail()}"
            )

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, grace: float = 10.0) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(grace)
        with contextlib.suppress(ProcessLookupError):  # what is left of the group (pool children)
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)
        self._log.close()

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Records:
    """The file latency handlers append ``i emit_time start_time`` lines to (O_APPEND: atomic lines)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.write_text("")

    def lines(self) -> list[list[str]]:
        return [line.split() for line in self.path.read_text().splitlines() if line.strip()]

    def count(self) -> int:
        with open(self.path, "rb") as f:
            return f.read().count(b"\n")

    def measured(self) -> int:
        """Lines of measured messages (i >= 0): a late warm-up line cannot end the wait early."""
        with open(self.path, "rb") as f:
            return sum(1 for line in f if line.strip() and not line.startswith(b"-"))


def record_start(path: str, event_i: int, emitted_at: float) -> None:
    """Called first thing by a latency handler: append its start time beside the emit time."""
    started = time.time()
    fd = _fds.get(path)
    if fd is None:
        fd = _fds[path] = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, f"{event_i} {emitted_at!r} {started!r}\n".encode())


_fds: dict[str, int] = {}


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def warm_up(
    emit: Callable[[int, float], None],
    records: Records,
    timeout: float,
    k: int = 20,
    alive: Callable[[], None] = lambda: None,
) -> None:
    """Send ``k`` latency messages and wait until all started: the workers are up and idle after."""
    for i in range(k):
        emit(-1 - i, time.time())
    wait_until(
        lambda: (alive(), records.count() >= k)[1], timeout, f"{k} warm-up messages to start", interval=0.01
    )
    time.sleep(0.3)  # let the warm-up acknowledgements settle
    records.path.write_text("")


def run_latency(
    n: int,
    gap: float,
    *,
    emit: Callable[[int, float], None],
    records: Records,
    timeout: float,
    warmup: int = 20,
    alive: Callable[[], None] = lambda: None,
) -> dict[str, Any]:
    """Warm the workers up, then emit ``n`` messages ``gap`` apart on a fixed schedule; collect."""
    warm_up(emit, records, timeout, warmup, alive)
    start = time.perf_counter()
    for i in range(n):
        target = start + i * gap
        delay = target - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        emit(i, time.time())
    wait_until(
        lambda: (alive(), records.measured() >= n)[1],
        timeout,
        f"{n} latency messages to start",
        interval=0.01,
    )
    rows = [r for r in records.lines() if int(r[0]) >= 0]
    lat = [(float(r[2]) - float(r[1])) * 1000.0 for r in rows]
    return {
        "n": len(lat),
        "p50_ms": percentile(lat, 50),
        "p95_ms": percentile(lat, 95),
        "p99_ms": percentile(lat, 99),
        "max_ms": max(lat),
        "emit_span_s": time.perf_counter() - start,
    }


def main_guard(fn: Callable[[], dict[str, Any]]) -> None:
    try:
        emit_result(fn())
    except Exception as error:
        emit_result({"error": f"{type(error).__name__}: {error}"})
        sys.exit(1)
