"""The claim statement through the store protocol: full batches, per-worker order, shared batches."""

from __future__ import annotations

from collections import defaultdict

from conveyor._stores import NewMessage, Store
from conveyor._stores._spread import ClaimSpread


def test_claims_stay_full_and_oldest_first_per_worker_with_many_busy_workers(store: Store) -> None:
    workers = [f"w{i:02d}" for i in range(30)]
    ids = store.enqueue([NewMessage(w, b"{}") for _ in range(20) for w in workers])
    by_worker: dict[str, list[int]] = defaultdict(list)
    for message_id, (_, w) in zip(ids, [(n, w) for n in range(20) for w in workers], strict=True):
        by_worker[w].append(message_id)
    limits: dict[str, int | None] = dict.fromkeys(workers)
    claimed: dict[str, list[int]] = defaultdict(list)
    batches = []
    while got := store.claim("r", limits, 50, 30.0):
        batches.append(len(got))
        for c in got:
            claimed[c.worker].append(c.id)
    assert sum(batches) == 600 and all(n == 50 for n in batches)  # every claim is a full batch
    for w in workers:  # and each worker's messages were taken oldest first
        assert claimed[w] == by_worker[w]


def test_spread_gives_one_busy_worker_the_whole_batch_and_many_a_fair_share() -> None:
    spread = ClaimSpread()
    assert spread.per_worker("r", 50) == 50  # nothing known yet
    spread.observe("r", ["a"] * 50)
    assert spread.per_worker("r", 50) == 50
    spread.observe("r", [f"w{i}" for i in range(25)])
    assert spread.per_worker("r", 50) == 4
    spread.observe("r", [])  # an empty claim teaches nothing
    assert spread.per_worker("r", 50) == 4
    spread.observe("r", ["a", "b"])
    assert spread.per_worker("r", 50) == 50
    assert spread.per_worker("other", 50) == 50
