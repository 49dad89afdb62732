"""RQ's driver (runs in bench/.venvs/rq). See _common.py for the protocol.

RQ runs one job at a time per worker process. For throughput its docs point to workers that do not
fork a work horse per job (``SimpleWorker``) and to ``rq worker-pool`` for several workers; so: a pool
of ``SimpleWorker`` processes, 2 for drain and latency (one per core), ``--slots`` for io.
Completion is RQ's own record of it: the queue's FinishedJobRegistry holds every job that returned.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from _common import Records, Workers, main_guard, parser, run_latency, wait_drained, wait_until, warm_up


def main() -> dict[str, Any]:
    p = parser("rq")
    p.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    p.add_argument("--processes", type=int, default=2)
    args = p.parse_args()
    out = Path(args.out)
    records = Records(out / "records.txt")
    os.environ["BENCH_RECORDS"] = str(records.path)
    import redis
    from rq import Queue
    from rq.registry import FinishedJobRegistry
    from rq_tasks import io, lat, noop

    r = redis.Redis.from_url(args.redis)
    r.flushdb()
    q = Queue("bench", connection=r)
    finished = FinishedJobRegistry(queue=q)
    rq = str(Path(sys.executable).parent / "rq")
    wl = args.workload

    def pool(n: int, name: str) -> Workers:
        return Workers(
            [
                rq,
                "worker-pool",
                "-n",
                str(n),
                "-w",
                "rq.worker.SimpleWorker",
                "-u",
                args.redis,
                "-l",
                "WARNING",
                "bench",
            ],
            out / f"workers-{name}.log",
        )

    def done(count: int) -> bool:
        return int(r.zcard(finished.key)) >= count

    def ready(w: Workers, n: int) -> None:
        wait_until(
            lambda: (w.check_alive(), int(r.scard(f"rq:workers:{q.name}")) >= n)[1],
            args.timeout,
            f"{n} RQ workers to register",
            interval=0.05,
        )

    how = f"rq worker-pool -n {args.processes} -w rq.worker.SimpleWorker"
    try:
        if wl == "emit":
            enqueue = q.enqueue
            t0 = time.perf_counter()
            for i in range(args.n):
                enqueue(noop, i)
            seconds = time.perf_counter() - t0
            return {
                "seconds": seconds,
                "rate": args.n / seconds,
                "n": args.n,
                "how": "queue.enqueue(), one call at a time",
            }
        if wl == "drain":
            for start in range(0, args.n, 1000):
                q.enqueue_many(
                    [Queue.prepare_data(noop, (i,)) for i in range(start, min(args.n, start + 1000))]
                )
            t0 = time.perf_counter()
            with pool(args.processes, "drain") as w:
                figures = wait_drained(
                    lambda: done(args.n),
                    lambda: done(1),
                    alive=w.check_alive,
                    t0=t0,
                    n=args.n,
                    timeout=args.timeout,
                    what="RQ's finished registry to hold every job",
                )
            return {**figures, "n": args.n, "how": how + "; done when FinishedJobRegistry holds all"}
        if wl == "latency":
            with pool(args.processes, "lat") as w:
                ready(w, args.processes)
                result = run_latency(
                    args.n,
                    args.gap,
                    emit=lambda i, t: q.enqueue(lat, i, t),
                    records=records,
                    timeout=args.timeout,
                    alive=w.check_alive,
                )
                w.check_alive()
            return {**result, "how": how}
        with pool(args.slots, "io") as w:
            ready(w, args.slots)
            warm_up(lambda i, t: q.enqueue(lat, i, t), records, args.timeout, alive=w.check_alive)
            before = int(r.zcard(finished.key))
            t0 = time.perf_counter()
            for start in range(0, args.n, 1000):
                q.enqueue_many(
                    [Queue.prepare_data(io, (args.sleep,)) for _ in range(start, min(args.n, start + 1000))]
                )
            t1 = wait_until(
                lambda: (w.check_alive(), done(before + args.n))[1], args.timeout, "the io jobs to finish"
            )
            w.check_alive()
        return {
            "seconds": t1 - t0,
            "n": args.n,
            "ideal": args.n * args.sleep / args.slots,
            "how": f"rq worker-pool -n {args.slots} -w rq.worker.SimpleWorker; time.sleep",
        }
    finally:
        r.flushdb()


if __name__ == "__main__":
    main_guard(main)
