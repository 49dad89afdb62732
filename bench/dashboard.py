"""How long does each dashboard page take to render at 1,000,000 queued and 1,000 workers?

    python -m bench.dashboard                      # SQLite: 1,000 workers, 1,000,000 queued, a day of stats
    python -m bench.dashboard --queued 100000      # quicker
    python -m bench.dashboard --url postgresql://127.0.0.1/test   # PostgreSQL (its schema is dropped first)

The store holds ``--workers`` workers (all defined in the app, as a runner of a big app defines them),
``--queued`` messages spread evenly over them plus 10 dead letters in 10 of them, 4 runners'
heartbeats, and stats for every worker for every minute of the last hour and ``--day-workers`` of them
for every minute of the last day (the stats a runner writes, through the same settle). Each page is
then requested through the ASGI app in this process (routing, middleware, the store reads and the
Jinja rendering: all of the server's work, none of the network's), ``--rounds`` times: the first
request (which reads the settled minutes' stats into the web app's cache, ``_web/_statscache.py``),
then the median and the worst of the others, in ms. The "live tick" line is one tick of the shared
poller for one view of each page (what N open tabs on those pages cost per ``poll``). Not part of
``python -m bench``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import warnings
from typing import Any

PAGES = (
    "/",
    "/?range=day",
    "/workers",
    "/workers/w0500",
    "/workers/w0500?range=day",
    "/workers/w0500?q=needle",
    "/workers/w0500?state=dead",
    "/runners",
    "/schedules",
    "/dead",
    "/unknown",
    "/messages",
    "/messages?worker=w0500&q=order-7",
)


def build(url: str, workers: int, queued: int, day_workers: int) -> Any:
    import conveyor
    from conveyor._histogram import bucket
    from conveyor._stores._base import RunnerInfo, Settlement, StatsRow

    app = conveyor.App(url)
    names = [f"w{i:04d}" for i in range(workers)]
    for name in names:
        app.worker(name, max_attempts=1)(lambda event: None)
    per = queued // workers
    t0 = time.perf_counter()
    batch: list[tuple[Any, ...]] = []
    for name in names:
        for j in range(per):
            event = {"i": j, "note": "needle" if j == per - 1 else "hay"}
            batch.append((event, name, {"key": f"order-{j}"}) if j % 100 == 7 else (event, name))
            if len(batch) == 10_000:
                app.emit_many(batch)
                batch.clear()
    if batch:
        app.emit_many(batch)
    print(f"filled {per * workers:,} queued over {workers:,} workers in {time.perf_counter() - t0:.0f} s")
    store = app.store
    # Dead letters: the oldest message of 10 workers, claimed and buried as a runner would.
    for name in names[:10]:
        (claimed,) = store.claim("bench-runner", {name: None}, 1, 30.0)
        store.settle("bench-runner", Settlement(bury=[(claimed.id, 1, "ValueError: bench")]))
    for n in range(4):
        store.heartbeat(f"bench-{n}", names, 30.0, RunnerInfo("bench-host", 1000 + n, 64, []))
    now = int(time.time()) // 60 * 60
    wait = {bucket(0.002): 40, bucket(0.05): 2}
    run = {bucket(0.01): 42}
    rows = [
        StatsRow(name, now - 60 * m, processed=42, failed=m % 3, wait=wait, run=run)
        for m in range(60)
        for name in names
    ]
    rows += [
        StatsRow(name, now - 60 * m, processed=42, failed=1, wait=wait, run=run)
        for m in range(60, 1440)
        for name in names[:day_workers]
    ]
    t0 = time.perf_counter()
    for i in range(0, len(rows), 5_000):
        store.settle("bench-runner", Settlement(stats=rows[i : i + 5_000]))
    print(f"wrote {len(rows):,} stats rows in {time.perf_counter() - t0:.0f} s")
    return app


def measure(app: Any, rounds: int) -> None:
    from starlette.testclient import TestClient

    from conveyor._web import create_app

    web = create_app(app, token="")
    client = TestClient(web, base_url="http://127.0.0.1", client=("127.0.0.1", 50000))
    print(f"{'page':<40} {'first ms':>9} {'median ms':>10} {'worst ms':>10} {'bytes':>10}")
    for path in PAGES:
        times = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, (path, response.status_code, response.text[:300])
            assert "could not be shown" not in response.text, (path, response.text)
        rest = times[1:] or times
        print(
            f"{path:<40} {times[0]:>9.1f} {statistics.median(rest):>10.1f} {max(rest):>10.1f}"
            f" {len(response.content):>10,}"
        )
    pages = web.state.conveyor.pages
    views = [
        pages.view({}, page, "w0500" if page == "worker" else None)
        for page in ("overview", "workers", "worker", "runners", "schedules", "dead", "unknown", "messages")
    ]
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        pages.render(views)
        times.append((time.perf_counter() - t0) * 1000)
    label = f"live tick ({len(views)} views)"
    print(
        f"{label:<40} {times[0]:>9.1f} {statistics.median(times[1:] or times):>10.1f}"
        f" {max(times[1:] or times):>10.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="store URL (default: a new SQLite file)")
    parser.add_argument("--workers", type=int, default=1_000)
    parser.add_argument("--queued", type=int, default=1_000_000)
    parser.add_argument("--day-workers", type=int, default=1_000, help="workers with a whole day of stats")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    url = args.url
    if url is None:
        url = f"sqlite:///{os.path.join(tempfile.mkdtemp(prefix='conveyor-dash-'), 'bench.db')}"
    elif url.startswith("postgres"):
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP SCHEMA IF EXISTS conveyor CASCADE")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        app = build(url, args.workers, args.queued, args.day_workers)
        measure(app, args.rounds)
    app.close()


if __name__ == "__main__":
    main()
