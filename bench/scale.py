"""Does a message cost the same with 1,000 or 1,000,000 queued? And how long does ``app.status()`` take?

    python -m bench.scale                       # SQLite, levels 1,000 and 1,000,000
    python -m bench.scale --stores sqlite,pg    # also PostgreSQL (scratch database, created and dropped)
    python -m bench.scale --levels 1000,100000  # quicker

At each level the queue of one worker is filled to that many queued messages (``emit_many`` in
batches), then, with that backlog in place:

- emit: ``app.emit`` one call at a time (µs per call);
- claim: the store's claim of the oldest messages, as a runner does it (batches of 100, and single);
- ack: settling those claimed messages as completed, as a runner does it (batches of 100);
- status: ``app.status()`` (the call behind ``conveyor status`` and the dashboard), best and worst of 5.

Emit, claim and ack are each the best of 3 rounds (the machine is shared: noise only adds time).

Claim and ack go through the Store protocol that the runner uses (``store.claim``/``store.settle``).
This takes a few minutes at 1,000,000 (filling is most of it); it is not part of ``python -m bench``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

WORKER = "bench-scale"
OPS = 2_000


def _app(url: str) -> Any:
    import conveyor

    app = conveyor.App(url)

    @app.worker(WORKER)
    def handle(event: Any) -> None:
        return None

    return app


def fill(app: Any, upto: int, batch: int = 10_000) -> float:
    have = sum(s.queued + s.scheduled for s in app.status().values())
    t0 = time.perf_counter()
    while have < upto:
        k = min(batch, upto - have)
        app.emit_many([({"i": have + j}, WORKER) for j in range(k)])
        have += k
    return time.perf_counter() - t0


def measure(app: Any, level: int, rounds: int = 3) -> dict[str, Any]:
    """Each cost is the best of ``rounds`` rounds: other processes on the machine only ever add time."""
    from conveyor._stores import Settlement

    store = app.store
    limits = {WORKER: None}
    runner = f"bench-scale-{os.getpid()}"
    out: dict[str, Any] = {"level": level, "rounds": rounds}
    best: dict[str, float] = {}

    def keep(name: str, value: float) -> None:
        best[name] = min(value, best.get(name, value))

    for _ in range(rounds):
        t0 = time.perf_counter()
        for i in range(OPS):
            app.emit({"i": i}, WORKER)
        keep("emit_us", (time.perf_counter() - t0) / OPS * 1e6)

        claim_t = ack_t = 0.0
        claimed = 0
        for _ in range(OPS // 100):
            t0 = time.perf_counter()
            got = store.claim(runner, limits, 100, 30.0)
            t1 = time.perf_counter()
            store.settle(runner, Settlement(complete=[c.id for c in got]))
            t2 = time.perf_counter()
            claim_t += t1 - t0
            ack_t += t2 - t1
            claimed += len(got)
        keep("claim100_us_per_msg", claim_t / claimed * 1e6)
        keep("ack100_us_per_msg", ack_t / claimed * 1e6)

        single = []
        for _ in range(100):
            t0 = time.perf_counter()
            got = store.claim(runner, limits, 1, 30.0)
            single.append(time.perf_counter() - t0)
            store.settle(runner, Settlement(complete=[c.id for c in got]))
        keep("claim1_us", statistics.median(single) * 1e6)
    out.update(best)

    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        status = app.status()
        times.append(time.perf_counter() - t0)
    out["status_ms_best"] = min(times) * 1000
    out["status_ms_worst"] = max(times) * 1000
    out["queued_seen_by_status"] = status[WORKER].queued
    return out


def run_store(kind: str, levels: list[int], pg_base: str) -> list[dict[str, Any]]:
    pg = None
    with tempfile.TemporaryDirectory(prefix="conveyor-scale-") as tmp:
        if kind == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'scale.db'}"
        else:
            sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
            from bench.__main__ import ScratchPostgres

            pg = ScratchPostgres(pg_base, "scale")
            url = pg.url
        try:
            app = _app(url)
            rows = []
            for level in sorted(levels):
                took = fill(app, level)
                print(
                    f"bench.scale: {kind}: filled to {level:,} queued in {took:.1f} s",
                    file=sys.stderr,
                    flush=True,
                )
                row = measure(app, level)
                row["store"] = kind
                rows.append(row)
            app.close()
            return rows
        finally:
            if pg is not None:
                pg.drop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", default="sqlite", help="comma-separated: sqlite, pg")
    parser.add_argument("--levels", default="1000,1000000", help="queued messages, comma-separated")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    levels = [int(x) for x in args.levels.split(",")]
    rows: list[dict[str, Any]] = []
    for kind in [s.strip() for s in args.stores.split(",") if s.strip()]:
        try:
            rows += run_store(kind, levels, args.pg)
        except Exception as error:
            print(f"bench.scale: {kind}: {type(error).__name__}: {error}", file=sys.stderr)
            rows.append({"store": kind, "error": str(error)})
    print(f"\nCost per message with a backlog — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(
        "| store | queued | emit µs/call | claim µs/msg (batch 100) | claim µs (1) | ack µs/msg (batch 100) "
        "| status() ms best / worst |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        if "error" in r:
            print(f"| {r['store']} | error: {r['error'][:80]} | | | | | |")
            continue
        print(
            f"| {r['store']} | {r['level']:,} | {r['emit_us']:.1f} | {r['claim100_us_per_msg']:.1f} | "
            f"{r['claim1_us']:.0f} | {r['ack100_us_per_msg']:.1f} | "
            f"{r['status_ms_best']:.1f} / {r['status_ms_worst']:.1f} |"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 1 if any("error" in r for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
