"""The peers' virtual environments under bench/.venvs/, created with pip from PyPI on first use.

Each peer runs in its own venv, so that neither its dependencies nor Conveyor's can tilt the other.
Versions are pinned so that a table can be repeated; a venv is rebuilt when its pins change.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["PEERS", "VENVS", "peer_python"]

VENVS = Path(__file__).resolve().parent / ".venvs"

PEERS: dict[str, list[str]] = {
    "celery": ["celery[redis]==5.7.0", "redis==8.1.0", "hiredis==3.5.0"],
    "rq": ["rq==2.12.0", "redis==8.1.0", "hiredis==3.5.0"],
}


def peer_python(peer: str, *, timeout: float = 600.0, quiet: bool = False) -> Path:
    """The venv python for ``peer``, creating or rebuilding the venv if its pins changed."""
    pins = PEERS[peer]
    venv = VENVS / peer
    python = venv / "bin" / "python"
    stamp = venv / ".pins"
    wanted = "\n".join(pins) + "\n"
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    if venv.exists():
        shutil.rmtree(venv)
    VENVS.mkdir(parents=True, exist_ok=True)
    if not quiet:
        print(f"bench: creating {venv} ({' '.join(pins)}) ...", file=sys.stderr, flush=True)
    started = time.monotonic()
    deadline = started + timeout
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=timeout)
    remaining = max(10.0, deadline - time.monotonic())
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", *pins],
        check=True,
        timeout=remaining,
        env=env,
    )
    stamp.write_text(wanted)
    if not quiet:
        print(f"bench: {venv} ready in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    return python


if __name__ == "__main__":
    for name in sys.argv[1:] or list(PEERS):
        print(peer_python(name))
