"""``python -m conveyor.django run``: the Conveyor runners of a Django project's ``ConveyorBackend``."""

from __future__ import annotations

from ._cli import main

if __name__ == "__main__":
    main()
