"""The one-message path that emit→start latency rides on, call by call, on either store:

    python -m bench.store_calls                     # SQLite (a temporary file) and PostgreSQL
    python -m bench.store_calls --stores sqlite     # one of them; --pg URL for another server

Each round emits one message from one App (the emitting process's store), waits 2 ms, then a second
store (the "runner": its own connection, as in a runner process) claims it and acks it. The runner's
app defines five workers, as the side-by-side benchmark's app does. Prints the median and p90 of each
call in microseconds. PostgreSQL runs in a scratch database ``conveyor_bench_calls_<pid>``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import conveyor
from conveyor._stores import Settlement

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
WORKERS = ["bench-noop", "bench-lat", "bench-lat-async", "bench-lat-traced", "bench-io"]


@contextmanager
def store_url(kind: str, admin_pg: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="conveyor-calls-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'calls.db'}"
        return
    import psycopg

    name = f"conveyor_bench_calls_{os.getpid()}"
    with psycopg.connect(admin_pg, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    base = admin_pg.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin_pg, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _app(url: str) -> conveyor.App:
    app = conveyor.App(url)
    for name in WORKERS:
        app.worker(name)(_noop)
    app.status()  # open and migrate outside the timing
    return app


def _noop(event: object) -> None:
    return None


def measure(url: str, rounds: int) -> dict[str, list[float]]:
    emitter, runner = _app(url), _app(url)
    store = runner.store
    limits: dict[str, int | None] = dict.fromkeys(WORKERS)
    times: dict[str, list[float]] = {"emit": [], "claim one": [], "ack one": []}

    def timed(name: str, call: Callable[[], object]) -> object:
        t0 = time.perf_counter()
        out = call()
        times[name].append((time.perf_counter() - t0) * 1e6)
        return out

    for i in range(rounds):
        timed("emit", lambda i=i: emitter.emit({"i": i}, "bench-lat"))
        time.sleep(0.002)
        claimed = timed("claim one", lambda: store.claim("bench-runner", limits, 50, 30.0))
        assert isinstance(claimed, list) and len(claimed) == 1, claimed
        timed("ack one", lambda c=claimed: store.settle("bench-runner", Settlement(complete=[c[0].id])))
    emitter.close()
    runner.close()
    return times


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stores", default="sqlite,pg")
    p.add_argument("--pg", default=os.environ.get("CONVEYOR_TEST_PG") or DEFAULT_PG)
    p.add_argument("--rounds", type=int, default=500)
    a = p.parse_args()
    warnings.simplefilter("ignore", conveyor.UnknownWorkerWarning)
    for kind in a.stores.split(","):
        with store_url(kind, a.pg) as url:
            times = measure(url, a.rounds)
        parts = []
        for name, values in times.items():
            values.sort()
            p90 = values[int(len(values) * 0.9)]
            parts.append(f"{name} {statistics.median(values):,.0f} µs (p90 {p90:,.0f})")
        print(f"{kind:>6}: " + " · ".join(parts))


if __name__ == "__main__":
    main()
