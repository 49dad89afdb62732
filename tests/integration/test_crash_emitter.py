"""An emitter killed with kill -9 in a tight loop: every emit that returned an id is in the store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import conveyor

EMITTER = textwrap.dedent(
    """
    import sys, warnings
    import conveyor
    warnings.simplefilter("ignore")
    app = conveyor.App(sys.argv[1])
    out = sys.stdout
    i = 0
    while True:
        mid = app.emit({"i": i, "pad": "x" * 100}, "sink")
        out.write(f"{mid}\\n")
        out.flush()
        i += 1
    """
)


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_every_returned_id_survives_kill_9(
    tmp_path: Path, store: str, request: pytest.FixtureRequest
) -> None:
    # SQLite in its default durability (WAL, synchronous=NORMAL): a commit survives any process crash
    url = (
        f"sqlite:///{tmp_path / 'crash.db'}" if store == "sqlite" else str(request.getfixturevalue("pg_url"))
    )
    script = tmp_path / "emitter.py"
    script.write_text(EMITTER)
    proc = subprocess.Popen([sys.executable, str(script), url], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # it is emitting
        assert first.strip().isdigit()
        time.sleep(1.0)
        os.kill(proc.pid, signal.SIGKILL)
        rest = proc.stdout.read()
    finally:
        proc.kill()
        proc.wait()
    returned = [int(line) for line in (first + rest).splitlines() if line.strip().isdigit()]
    assert len(returned) > 100
    app = conveyor.App(url)
    stored = {m.id for m in app.messages("sink", limit=len(returned) + 1000)}
    missing = [i for i in returned if i not in stored]
    print(f"emitter kill -9 {store}: returned={len(returned)} missing={len(missing)}")  # docs/reliability.md
    assert missing == [], f"{len(missing)} of {len(returned)} acknowledged emits lost"
    app.close()
