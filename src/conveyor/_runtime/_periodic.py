"""The shape of a runner plugin whose duty is one blocking ``turn`` now and then (the result and stats
pruners): every ``every`` seconds, ±20 % so that runners sharing a store spread their turns, in a thread;
a turn that fails is logged and tried again next time."""

from __future__ import annotations

import asyncio
import logging
import random

__all__ = ["Periodic"]

log = logging.getLogger("conveyor.runner")


class Periodic:
    name: str
    every: float
    runner_id: str
    doing: str
    """What a turn does, for the log: ``"pruning stats"``."""

    def turn(self) -> int:
        """One turn (blocking); returns how many rows it changed."""
        raise NotImplementedError

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.every * random.uniform(0.8, 1.2))
            try:
                await asyncio.to_thread(self.turn)
            except Exception:
                log.exception("runner %s: %s failed; trying again later", self.runner_id, self.doing)

    def stop(self) -> None:
        """Nothing to sign off."""
