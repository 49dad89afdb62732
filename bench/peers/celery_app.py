"""The benchmark's Celery app: ``celery -A celery_app worker`` (broker from $BENCH_REDIS_URL).

Settings for throughput as Celery's docs advise, and acks as Conveyor does them (after the task):
- task_acks_late: acknowledge after the task returns (at-least-once, like Conveyor);
- task_ignore_result: no result backend round trip (Conveyor's no-op returns nothing either);
- worker_prefetch_multiplier from $BENCH_CELERY_PREFETCH (short tasks: a high multiplier);
- the worker runs --without-gossip --without-mingle --without-heartbeat.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import record_start
from celery import Celery

QUEUE = os.environ.get("BENCH_QUEUE", "bench")

app = Celery("bench", broker=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"))
app.conf.update(
    task_acks_late=True,
    task_ignore_result=True,
    task_default_queue=QUEUE,
    worker_prefetch_multiplier=int(os.environ.get("BENCH_CELERY_PREFETCH", "256")),
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    task_serializer="json",
    accept_content=["json"],
)


@app.task(name="bench.noop")
def noop(i: int) -> None:
    return None


@app.task(name="bench.lat")
def lat(i: int, t: float) -> None:
    record_start(os.environ["BENCH_RECORDS"], i, t)


_redis: Any = None


@app.task(name="bench.io")
def io(s: float) -> Any:
    time.sleep(s)
    # Count completions: the io figure must not end before the last task did (see celery_driver.py).
    global _redis
    if _redis is None:
        import redis

        _redis = redis.Redis.from_url(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"))
    _redis.incr("bench:io-done")
