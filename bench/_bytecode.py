"""Byte-compile Conveyor's sources and the benchmark's apps before anything is timed.

pip byte-compiles a package when it installs it, so an installed Conveyor (like the peers, installed
with pip into their venvs) imports from ``.pyc`` files. This checkout is an editable install, whose
sources Python compiles on import and caches in ``__pycache__`` — unless ``PYTHONDONTWRITEBYTECODE`` is
set, as it is on the machine these figures come from: then every process compiles every module again
(measured there: importing what ``conveyor run`` needs took 0.25 s from source, 0.13 s from ``.pyc``).
``compileall`` writes the cache files regardless of that variable.
"""

from __future__ import annotations

import compileall
from pathlib import Path

import conveyor

__all__ = ["precompile"]

HERE = Path(__file__).resolve().parent


def precompile() -> None:
    for folder in (Path(conveyor.__file__).parent, HERE / "peers"):
        compileall.compile_dir(str(folder), quiet=1)
