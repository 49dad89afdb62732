"""Typed emits against plain ones: emits/s, and the microseconds the check and encoding add.

    python -m bench.typed_emit [--n 5000] [--rounds 5]

On a fresh SQLite file, each round emits ``n`` events of each kind, one call at a time, to its own worker:
a dict to a worker without a typed event, the same dict to a worker typed with a pydantic model, a model
instance to it, and a dataclass instance to a worker typed with that dataclass. Then the same events
through ``prepare`` alone (checked and encoded, nothing written), which is what typing adds to an emit.
Emits/s: the median of the rounds; microseconds: the best round (CPU-bound work only gets slower when
the machine is busy). The kinds take turns within each round, each round starting with the next kind
(a store gets slower as a round fills it), so that neither the order nor a slower moment favours one.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

import pydantic

import conveyor


class Size(pydantic.BaseModel):
    width: int
    height: int


class Resize(pydantic.BaseModel):
    image: str
    size: Size
    tags: list[str]


@dataclasses.dataclass
class DSize:
    width: int
    height: int


@dataclasses.dataclass
class DResize:
    image: str
    size: DSize
    tags: list[str]


def plain(event: Any) -> None:
    pass


def typed(event: Resize) -> None:
    pass


def typed_dc(event: DResize) -> None:
    pass


def kinds() -> dict[str, tuple[Callable[[int], Any], str]]:
    def as_dict(i: int) -> Any:
        return {"image": f"{i}.png", "size": {"width": i, "height": 2}, "tags": ["a"]}

    return {
        "dict, untyped worker": (as_dict, "plain"),
        "dict, pydantic worker": (as_dict, "typed"),
        "model, pydantic worker": (
            lambda i: Resize(image=f"{i}.png", size=Size(width=i, height=2), tags=["a"]),
            "typed",
        ),
        "dataclass, dataclass worker": (lambda i: DResize(f"{i}.png", DSize(i, 2), ["a"]), "typed-dc"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    app = conveyor.App(f"sqlite:///{tempfile.mkdtemp()}/typed.db")
    app.worker("plain")(plain)
    app.worker("typed")(typed)
    app.worker("typed-dc")(typed_dc)
    emits: dict[str, list[float]] = {}
    prepares: dict[str, list[float]] = {}
    order = list(kinds().items())
    for round_ in range(args.rounds):
        rotated = order[round_ % len(order) :] + order[: round_ % len(order)]  # each kind first in turn
        for name, (make, worker) in rotated:
            events = [make(i) for i in range(args.n)]  # made outside the timing
            start = time.perf_counter()
            for event in events:
                app.emit(event, worker)
            emits.setdefault(name, []).append(args.n / (time.perf_counter() - start))
            start = time.perf_counter()
            for event in events:
                app.emitter.prepare(event, worker)
            prepares.setdefault(name, []).append((time.perf_counter() - start) / args.n * 1e6)
        app.purge("plain"), app.purge("typed"), app.purge("typed-dc")
    base = statistics.median(emits["dict, untyped worker"])
    base_prepare = min(prepares["dict, untyped worker"])
    print(f"| event, worker | emits/s | vs untyped | check + encode (µs) | added (µs) |  n={args.n}")
    print("|---|---:|---:|---:|---:|")
    for name in kinds():
        rate, prep = statistics.median(emits[name]), min(prepares[name])
        print(f"| {name} | {rate:,.0f} | {rate / base:.0%} | {prep:.1f} | {prep - base_prepare:+.1f} |")
    app.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
