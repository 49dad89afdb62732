"""The examples in the docs are real files, and they run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quickstart_runs(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py"), f"sqlite:///{tmp_path / 'q.db'}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "sending 'welcome' to ada@example.com (attempt 1, parent 1)" in out
    assert "processed 2 messages" in out
    assert "['WARNING shop: new user ada@example.com']" in out
