"""A process's resident memory, read cheaply, for ``max_memory`` (a runner retires past it)."""

from __future__ import annotations

import logging
import os

__all__ = ["MemoryLimit", "resident_bytes"]


def resident_bytes() -> int | None:
    """This process's resident set size (Linux ``/proc``), or None where it cannot be read."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


log = logging.getLogger("conveyor.runner")


class MemoryLimit:
    """A runner's ``max_memory``, checked before every claim (one read of /proc, ~10 µs)."""

    def __init__(self, runner_id: str) -> None:
        self.runner_id = runner_id
        self._warned = False

    def over(self, limit: int, claimed: int) -> bool:
        """Whether the process is past ``limit`` bytes and should retire (after ``claimed`` messages)."""
        rss = resident_bytes()
        if rss is None or rss <= limit:
            return False
        if not claimed:  # a fresh process already past the limit: retiring would only loop
            if not self._warned:
                self._warned = True
                log.warning(
                    "runner %s: starts at %d MB, past its memory limit of %d MB; the limit is ignored "
                    "until it has handled a message",
                    self.runner_id,
                    rss >> 20,
                    limit >> 20,
                )
            return False
        log.warning(
            "runner %s: resident memory %d MB passed the limit of %d MB",
            self.runner_id,
            rss >> 20,
            limit >> 20,
        )
        return True
