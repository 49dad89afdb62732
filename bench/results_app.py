"""The app ``python -m bench.results`` runs with ``conveyor run``: one worker, ``echo``, that keeps its
results (``results=600``) and returns its event."""

from __future__ import annotations

from typing import Any

import conveyor

app = conveyor.App()


@app.worker("echo", results=600, traces=0)
def echo(event: Any) -> Any:
    return event
