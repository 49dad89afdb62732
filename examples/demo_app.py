"""The demo app (what `conveyor demo` runs): fan-out, retries and dead letters, slow async work.

Its workers are defined once, in the package (`src/conveyor/_demo_app.py`, which `conveyor demo`
uses from an installed wheel too); this file names that app for `conveyor run`:

    conveyor run examples/demo_app.py --store sqlite:///demo.db
    conveyor emit orders '{"order": 1, "customer": "ada@example.com", "items": ["lamp", "mug"]}' --store sqlite:///demo.db

and open http://127.0.0.1:8765/.
"""

from __future__ import annotations

from conveyor._demo_app import app

__all__ = ["app"]
