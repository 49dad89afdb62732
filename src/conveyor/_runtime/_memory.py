"""A process's resident memory, read cheaply, for ``max_memory`` (a runner retires past it)."""

from __future__ import annotations

import os

__all__ = ["resident_bytes"]


def resident_bytes() -> int | None:
    """This process's resident set size (Linux ``/proc``), or None where it cannot be read."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
