"""Results on the runner's side (docs/results.md): the outcome a finished message of a worker with
``results=`` leaves in its settle, and the pruner plugin that removes expired outcomes in bounded
batches (no other daemon)."""

from __future__ import annotations

import orjson

from .._registry import WorkerSpec
from .._stores import Claimed, ResultRecord, Settlement, Store
from ._executor import Outcome
from ._periodic import Periodic
from ._settle import safe_repr, storable

__all__ = ["PRUNE_BATCH", "PRUNE_EVERY", "ResultPruner", "kept_result"]


PRUNE_EVERY = 30.0
"""Seconds between two prunes by one runner (±20 %, so that runners spread them)."""
PRUNE_BATCH = 1000
"""Most expired outcomes one statement removes; a prune repeats it while it removes that many."""
PRUNE_ROUNDS = 20
"""Most statements in one prune (the rest waits for the next one)."""

_STRICT = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS


def kept_result(
    batch: Settlement, spec: WorkerSpec, c: Claimed, outcome: Outcome, marks: tuple[int, int]
) -> ResultRecord:
    """The outcome to keep for ``c``, which recording it just finished: ``marks`` are the lengths of
    ``batch.complete`` and ``batch.bury`` before (a retry or an ``Incomplete`` finishes nothing)."""
    assert spec.results is not None
    if len(batch.complete) > marks[0]:
        value, is_repr = encode_value(outcome.result)
        return ResultRecord(c.id, c.worker, "ok", value, is_repr, None, spec.results)
    error = batch.bury[-1][2]
    kind = "cancelled" if outcome.kind == "cancelled" else "dead"
    return ResultRecord(c.id, c.worker, kind, None, False, error, spec.results)


def encode_value(value: object) -> tuple[str, bool]:
    """A return value as JSON text, or (not JSON) its repr as a JSON string, and whether it is that."""
    try:
        return orjson.dumps(value, option=_STRICT).decode(), False
    except TypeError:
        return orjson.dumps(storable(safe_repr(value))).decode(), True


class ResultPruner(Periodic):
    """A runner plugin: every ``PRUNE_EVERY`` seconds, remove expired outcomes in bounded batches."""

    name = "result-pruner"
    doing = "pruning expired results"

    def __init__(self, store: Store, runner_id: str, every: float = PRUNE_EVERY) -> None:
        self.store = store
        self.runner_id = runner_id
        self.every = every
        self.removed = 0

    def turn(self) -> int:
        """One prune (blocking): at most ``PRUNE_ROUNDS`` batches. Returns how many were removed."""
        removed = 0
        for _ in range(PRUNE_ROUNDS):
            n = self.store.prune_results(PRUNE_BATCH)
            removed += n
            if n < PRUNE_BATCH:
                break
        self.removed += removed
        return removed
