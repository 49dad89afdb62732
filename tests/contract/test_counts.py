"""The counts behind ``status()`` stay exact through every transition, on every store.

Both stores keep counts per statement (SQLite: migrations/0005_statement_counts.sql; PostgreSQL:
count_deltas), so every statement that moves or deletes messages must count what it did. A seeded random
walk through the store protocol checks the counts against the messages themselves after every step."""

from __future__ import annotations

import random
import time
from collections import Counter

import pytest

from conveyor._stores import NewMessage, Settlement, Store

WORKERS = ("a", "b", "c")
LIMITS: dict[str, int | None] = {"a": None, "b": 2, "c": None}


def _from_counts(store: Store) -> Counter[tuple[str, str]]:
    out: Counter[tuple[str, str]] = Counter()
    for c in store.counts():
        out[(c.worker, "queued")] += c.queued + c.scheduled
        out[(c.worker, "running")] += c.running
        out[(c.worker, "dead")] += c.dead
    return +out


def _from_messages(store: Store) -> Counter[tuple[str, str]]:
    out: Counter[tuple[str, str]] = Counter()
    for m in store.messages(None, None, 100_000):
        out[(m.worker, "queued" if m.state == "scheduled" else m.state)] += 1
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_counts_match_the_messages_after_every_step_of_a_random_walk(store: Store, seed: int) -> None:
    rng = random.Random(seed)
    held: dict[str, list[int]] = {"r1": [], "r2": []}
    dead: list[int] = []
    done: list[Settlement] = []
    steps: Counter[str] = Counter()
    for step in range(160):
        op = rng.choice(
            [
                "emit",
                "emit",
                "emit_many",
                "keyed",
                "claim",
                "claim",
                "settle",
                "settle",
                "again",
                "rescue",
                "cancel",
                "purge",
                "retry_dead",
                "discard_dead",
            ]
        )
        runner = rng.choice(list(held))
        if op == "emit":
            store.enqueue([NewMessage(rng.choice(WORKERS), b"{}", rng.choice([0.0, 0.0, 60.0]))])
        elif op == "emit_many":
            store.enqueue([NewMessage(rng.choice(WORKERS), b"{}") for _ in range(rng.randint(2, 6))])
        elif op == "keyed":
            store.enqueue([NewMessage(rng.choice(WORKERS), b"{}", key=f"k{rng.randint(0, 3)}")])
        elif op == "claim":
            lease = rng.choice([30.0, 30.0, 0.01])
            held[runner] += [c.id for c in store.claim(runner, LIMITS, rng.randint(1, 6), lease)]
        elif op == "settle" and held[runner]:
            rng.shuffle(held[runner])
            ids, held[runner] = held[runner][:4], held[runner][4:]
            batch = Settlement()
            for i in ids:
                kind = rng.choice(["complete", "complete", "retry", "incomplete", "bury", "release"])
                if kind == "complete":
                    batch.complete.append(i)
                elif kind == "retry":
                    batch.retry.append((i, rng.choice([0.0, 60.0]), "boom"))
                elif kind == "incomplete":
                    batch.incomplete.append((i, 0.0))
                elif kind == "bury":
                    batch.bury.append((i, 3, "dead"))
                    dead.append(i)
                else:
                    batch.release.append(i)
            store.settle(runner, batch)
            done.append(batch)
        elif op == "again" and done:
            store.settle(runner, rng.choice(done))  # sent again after a lost reply, or by a stale runner
        elif op == "rescue":
            time.sleep(0.012)  # past the short leases
            store.rescue()
        elif op == "cancel":
            queued = store.messages(rng.choice(WORKERS), "queued", 10)
            if queued:
                store.cancel(rng.choice(queued).id)
        elif op == "purge" and rng.random() < 0.3:
            store.purge(rng.choice(WORKERS))
        elif op == "retry_dead" and dead:
            if rng.random() < 0.5:
                store.retry_dead(rng.choice(dead), None)
            else:
                store.retry_dead(None, rng.choice(WORKERS))
        elif op == "discard_dead" and dead:
            store.discard_dead(rng.choice(dead), None)
        steps[op] += 1
        assert _from_counts(store) == _from_messages(store), f"after step {step} ({op})"
    assert min(steps.values()) >= 3, steps  # every kind of step ran
    assert sum(_from_messages(store).values()) > 0
