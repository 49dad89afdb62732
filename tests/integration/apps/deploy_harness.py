"""``conveyor run`` / ``conveyor web`` as real processes for the deploy and health tests: started with
their output in a file, asked over HTTP, signalled, and always cleaned up (children included)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from run_harness import children_of, wait_for

__all__ = ["Served", "children_of", "conveyor_exe", "python_path", "wait_for", "wait_until"]


def python_path(*extra: Path) -> str:
    """PYTHONPATH for a child: this interpreter's path (the source under test first), then ``extra``."""
    return os.pathsep.join([*(p for p in sys.path if p), *map(str, extra)])


def conveyor_exe() -> str:
    return shutil.which("conveyor") or str(Path(sys.executable).parent / "conveyor")


class Served:
    """One ``conveyor <args>`` process; ``log`` collects its stdout and stderr."""

    def __init__(self, log: Path, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
        self.log = log
        self._out = open(log, "wb")  # noqa: SIM115 - closed in close()
        self.process = subprocess.Popen(
            [conveyor_exe(), *args],
            stdout=self._out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            cwd=cwd,
        )
        self.base: str | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_served(self, timeout: float = 15.0) -> str:
        """The address it serves on (from its 'dashboard and API on' line)."""

        def found() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"conveyor exited with {self.process.returncode}:\n{self.text()}")
            match = re.search(r"dashboard and API on (http://\S+/)", self.text())
            if match:
                self.base = match.group(1).rstrip("/")
            return match is not None

        wait_for(found, timeout, "the web face")
        assert self.base is not None
        return self.base

    def get(self, path: str, **headers: str) -> tuple[int, Any]:
        assert self.base is not None
        response = httpx.get(self.base + path, headers=headers, timeout=10)
        return response.status_code, response.json()

    def children(self) -> list[int]:
        return children_of(self.pid)

    def signal(self, sig: int) -> None:
        self.process.send_signal(sig)

    def wait(self, timeout: float = 30.0) -> int:
        return self.process.wait(timeout)

    def close(self) -> None:
        kids = children_of(self.pid)
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)
        for pid in kids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._out.close()


def wait_until(predicate: Any, timeout: float, what: str) -> Any:
    """Like ``wait_for``, returning the predicate's first true value."""
    box: list[Any] = []

    def check() -> bool:
        value = predicate()
        if value:
            box.append(value)
        return bool(value)

    wait_for(check, timeout, what)
    time.sleep(0)
    return box[0]
