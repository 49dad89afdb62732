"""Conveyor's benchmarks: ``python -m bench`` (side by side with Celery and RQ), ``python -m bench.core``
(emit and in-process drain on SQLite, with a profile of the emit path), ``python -m bench.scale``
(cost per message at 1,000 vs 1,000,000 queued). See docs/benchmarks.md.
"""
