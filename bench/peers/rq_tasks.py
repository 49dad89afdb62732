"""The benchmark's RQ job functions (imported by ``rq worker-pool`` from this folder)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import record_start


def noop(i: int) -> None:
    return None


def lat(i: int, t: float) -> None:
    record_start(os.environ["BENCH_RECORDS"], i, t)


def io(s: float) -> None:
    time.sleep(s)
