"""The app of ``bench/load.py``: 100 no-op workers ``w00`` … ``w99``; store from $CONVEYOR_STORE."""

from __future__ import annotations

import json
import sys
from typing import Any

import conveyor

app = conveyor.App()


def _noop(event: Any) -> None:
    return None


for _i in range(100):
    app.worker(f"w{_i:02d}")(_noop)

if __name__ == "__main__":
    app.run(**json.loads(sys.argv[1] if len(sys.argv) > 1 else "{}"))
