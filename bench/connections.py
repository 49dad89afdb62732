"""``python -m bench.connections --store postgresql://… [--processes N] [--max-connections M]``: the
PostgreSQL connections of one ``conveyor run`` (its supervisor, web face and runner processes) while
idle and under load, counted in ``pg_stat_activity`` by ``application_name`` (conveyor-runner,
conveyor-web; conveyor: the supervisor's own store while it starts).

Load: ``--messages`` messages to a sync worker that emits one child each (so handlers' emits use the
emit lane and the pool), with the dashboard's API read in a loop meanwhile. Figures are the most
connections seen at once in each phase, sampled every 20 ms.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import psycopg

import conveyor
from conveyor._stores._probe import probe

APP = """
import time
import conveyor
from conveyor._stores._probe import probe

app = conveyor.App()

@app.worker("fan")
def fan(event):
    time.sleep(0.002)
    conveyor.emit(event, "leaf")

@app.worker("leaf")
def leaf(event):
    pass
"""


class Sampler(threading.Thread):
    """The most connections per application_name seen at once, in the phase being sampled."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.conn = psycopg.connect(
            url.split("?", maxsplit=1)[0], autocommit=True, application_name="bench-sampler"
        )
        self.peak: Counter[str] = Counter()
        self.total = 0
        self.halt = threading.Event()
        self.lock = threading.Lock()

    def run(self) -> None:
        while not self.halt.is_set():
            rows = self.conn.execute(
                "SELECT application_name, count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND application_name NOT LIKE 'bench-%' AND application_name <> 'conveyor-health' GROUP BY 1"
            ).fetchall()
            with self.lock:
                for name, count in rows:
                    self.peak[name] = max(self.peak[name], count)
                self.total = max(self.total, sum(c for _n, c in rows))
            time.sleep(0.02)

    def phase(self) -> tuple[dict[str, int], int]:
        with self.lock:
            out, total = dict(self.peak), self.total
            self.peak.clear()
            self.total = 0
        return out, total


def _all_serving(url: str, processes: int) -> bool:
    """Every runner process has reached its loop (its heartbeat is in the store)."""
    return len(probe(url).runners) >= processes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", required=True)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--max-connections", type=int)
    parser.add_argument("--messages", type=int, default=3000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    (folder / "connapp.py").write_text(APP)
    command = [
        shutil.which("conveyor") or str(Path(sys.executable).parent / "conveyor"),
        "run",
        "connapp:app",
        "--store",
        args.store,
    ]
    command += ["--processes", str(args.processes), "--port", "0"]
    if args.max_connections:
        command += ["--max-connections", str(args.max_connections)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(folder), *sys.path]))
    log = folder / "run.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, env=env, cwd=folder, stdout=out, stderr=subprocess.STDOUT)
    try:
        base = ""
        while not base:
            time.sleep(0.1)
            found = re.search(r"dashboard and API on (http://\S+)/", log.read_text())
            base = found.group(1) if found else ""
            if proc.poll() is not None:
                raise SystemExit(log.read_text())
        while not _all_serving(args.store, args.processes):
            time.sleep(0.2)
        sampler = Sampler(args.store)
        sampler.start()
        time.sleep(3)
        idle = sampler.phase()
        sep = "&" if "?" in args.store else "?"
        app = conveyor.App(f"{args.store}{sep}application_name=bench-emitter")
        app.emit_many([({"n": n}, "fan") for n in range(args.messages)])
        reading = threading.Event()

        def read_api() -> None:
            with httpx.Client() as client:
                while not reading.is_set():
                    client.get(f"{base}/api/workers")
                    client.get(f"{base}/readyz")

        readers = [threading.Thread(target=read_api) for _ in range(4)]
        for t in readers:
            t.start()
        while sum(s.queued + s.running for s in app.status().values()):
            time.sleep(0.1)
        reading.set()
        for t in readers:
            t.join()
        load = sampler.phase()
        app.close()
        sampler.halt.set()
    finally:
        proc.terminate()
        proc.wait(60)
    budget = f", --max-connections {args.max_connections}" if args.max_connections else ""
    print(f"conveyor run --processes {args.processes}{budget}: most connections at once")
    for name, (peaks, total) in (("idle", idle), ("load", load)):
        parts = ", ".join(f"{k or '(none)'} {v}" for k, v in sorted(peaks.items()))
        print(f"  {name}: {total} in all ({parts})")


if __name__ == "__main__":
    main()
