"""Fallback workers while ``conveyor run`` is missing: ``app.run()`` in this one process."""

from __future__ import annotations

import sys

from conveyor_app import app

if __name__ == "__main__":
    app.run(concurrency=int(sys.argv[1]))
