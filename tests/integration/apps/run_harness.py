"""Start ``runapp.py`` (a supervisor and its runner processes) for a test, and always clean up."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import conveyor

APP = Path(__file__).with_name("runapp.py")


class Cluster:
    def __init__(self, tmp_path: Path, *, lease: float = 1.0, cap: int = 2) -> None:
        self.dir = tmp_path
        self.url = f"sqlite:///{tmp_path / 'conveyor.db'}"
        self.env = dict(
            os.environ,
            CONVEYOR_STORE=self.url,
            RUNAPP_DIR=str(tmp_path),
            RUNAPP_LEASE=str(lease),
            RUNAPP_CAP=str(cap),
        )
        self.app = conveyor.App(self.url, lease=lease)
        self.supervisor: subprocess.Popen[bytes] | None = None

    def emit(self, event: Any, worker: str, **options: Any) -> int:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", conveyor.UnknownWorkerWarning)
            return self.app.emit(event, worker, **options)

    def emit_many(self, items: list[tuple[Any, str]]) -> list[int]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", conveyor.UnknownWorkerWarning)
            return self.app.emit_many(items)

    def start(self, *, start_method: str = "auto", **run: Any) -> None:
        """``app.run(**run)`` in a new process; ``start_method``: how it starts runners (fork/spawn)."""
        env = dict(self.env, CONVEYOR_RUNNER_START=start_method)
        self.supervisor = subprocess.Popen(
            [sys.executable, str(APP), json.dumps(run)], env=env, stdin=subprocess.DEVNULL
        )

    def children(self) -> list[int]:
        """Pids of the supervisor's runner processes."""
        assert self.supervisor is not None
        return children_of(self.supervisor.pid)

    def wait_children(self, count: int, timeout: float = 10.0) -> list[int]:
        wait_for(lambda: len(self.children()) == count, timeout, f"{count} runner processes")
        return self.children()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        assert self.supervisor is not None
        self.supervisor.send_signal(sig)
        return self.supervisor.wait(timeout)

    def lines(self, name: str) -> list[list[str]]:
        path = self.dir / name
        if not path.exists():
            return []
        return [line.split() for line in path.read_text().splitlines() if line]

    def close(self) -> None:
        if self.supervisor is not None:
            kids = children_of(self.supervisor.pid)
            if self.supervisor.poll() is None:
                self.supervisor.kill()
            self.supervisor.wait(10)
            for pid in kids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self.app.close()


def children_of(parent: int) -> list[int]:
    """Live child processes of ``parent`` (runners: forked, or fresh interpreters)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == parent and fields[0] != "Z":
            found.append(int(entry.name))
    return sorted(found)


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)
