"""Celery's driver (runs in bench/.venvs/celery). See _common.py for the protocol."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from _common import Records, Workers, main_guard, parser, run_latency, wait_drained, wait_until, warm_up


def main() -> dict[str, Any]:
    p = parser("celery")
    p.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    p.add_argument("--prefetch", type=int, default=256)
    p.add_argument("--processes", type=int, default=2)
    args = p.parse_args()
    out = Path(args.out)
    records = Records(out / "records.txt")
    os.environ.update(
        BENCH_REDIS_URL=args.redis,
        BENCH_RECORDS=str(records.path),
        BENCH_CELERY_PREFETCH=str(args.prefetch),
        BENCH_QUEUE="bench",
    )
    import redis
    from celery_app import QUEUE, app, io, lat, noop

    r = redis.Redis.from_url(args.redis)
    r.flushdb()
    app.connection_for_write().ensure_connection(max_retries=1)
    celery = str(Path(sys.executable).parent / "celery")
    common = ["--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING", "-Q", QUEUE]
    wl = args.workload

    def empty() -> bool:
        # With task_acks_late a message stays in the 'unacked' hash until its task returned.
        return r.llen(QUEUE) == 0 and r.hlen("unacked") == 0

    def settled() -> bool:
        # Seen empty twice, 5 ms apart: a message between BRPOP and its entry in 'unacked' cannot hide.
        if not empty():
            return False
        time.sleep(0.005)
        return empty()

    prefork = ["-P", "prefork", "-c", str(args.processes), "--prefetch-multiplier", str(args.prefetch)]
    how = (
        f"celery worker -P prefork -c {args.processes} --prefetch-multiplier {args.prefetch}, acks_late, "
        "no results"
    )
    try:
        if wl == "emit":
            delay = noop.delay
            t0 = time.perf_counter()
            for i in range(args.n):
                delay(i)
            seconds = time.perf_counter() - t0
            return {
                "seconds": seconds,
                "rate": args.n / seconds,
                "n": args.n,
                "how": "task.delay(), one call at a time",
            }
        if wl == "drain":
            with app.producer_or_acquire() as producer:
                for i in range(args.n):
                    noop.apply_async((i,), producer=producer)
            t0 = time.perf_counter()
            with Workers(
                [celery, "-A", "celery_app", "worker", *prefork, *common], out / "workers-drain.log"
            ) as w:
                figures = wait_drained(
                    settled,
                    lambda: r.llen(QUEUE) + r.hlen("unacked") < args.n,
                    alive=w.check_alive,
                    t0=t0,
                    n=args.n,
                    timeout=args.timeout,
                    what="the broker to hold no message, acked or not",
                )
            return {**figures, "n": args.n, "how": how + "; done when the queue and 'unacked' are empty"}
        if wl == "latency":
            with Workers(
                [celery, "-A", "celery_app", "worker", *prefork, *common], out / "workers-lat.log"
            ) as w:
                result = run_latency(
                    args.n,
                    args.gap,
                    emit=lat.delay,
                    records=records,
                    timeout=args.timeout,
                    alive=w.check_alive,
                )
                w.check_alive()
            return {**result, "how": how}
        threads = ["-P", "threads", "-c", str(args.slots), "--prefetch-multiplier", "4"]
        with Workers([celery, "-A", "celery_app", "worker", *threads, *common], out / "workers-io.log") as w:
            warm_up(lat.delay, records, args.timeout, alive=w.check_alive)
            r.delete("bench:io-done")
            t0 = time.perf_counter()
            with app.producer_or_acquire() as producer:
                for _ in range(args.n):
                    io.apply_async((args.sleep,), producer=producer)
            # Every task counted itself done, and then nothing is left queued or unacknowledged. (The
            # queue-and-unacked check alone once ended early under load: a message between BRPOP and
            # its 'unacked' entry can hide from it for longer than 5 ms when the worker is starved.)
            t1 = wait_until(
                lambda: (w.check_alive(), int(r.get("bench:io-done") or 0) >= args.n and settled())[1],
                args.timeout,
                "the io tasks to finish",
            )
            w.check_alive()
        return {
            "seconds": t1 - t0,
            "n": args.n,
            "ideal": args.n * args.sleep / args.slots,
            "how": f"celery worker -P threads -c {args.slots}, acks_late; time.sleep",
        }
    finally:
        r.flushdb()


if __name__ == "__main__":
    main_guard(main)
