"""Two real processes share one SQLite file, both emitting and draining: none lost, none run twice."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import conveyor

SCRIPT = textwrap.dedent(
    """
    import json, sys, threading
    import conveyor

    url, name, count, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    app = conveyor.App(url)
    handled = []

    @app.worker("work")
    def work(event):
        handled.append(event)

    emitted = []
    def emit_all():
        for i in range(count):
            emitted.append(app.emit({"from": name, "i": i}, "work"))

    emitter = threading.Thread(target=emit_all)
    emitter.start()
    while emitter.is_alive():
        app.drain()
    emitter.join()
    app.drain()
    with open(out, "w") as f:
        json.dump({"emitted": emitted, "handled": handled}, f)
    """
)


def test_two_processes_lose_nothing_and_run_nothing_twice(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    script = tmp_path / "proc.py"
    script.write_text(SCRIPT)
    per_process = 2500
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), url, name, str(per_process), str(tmp_path / f"{name}.json")]
        )
        for name in ("a", "b")
    ]
    try:
        for p in procs:
            assert p.wait(timeout=120) == 0
    finally:
        for p in procs:
            p.kill()
    results = [json.loads((tmp_path / f"{name}.json").read_text()) for name in ("a", "b")]
    emitted = results[0]["emitted"] + results[1]["emitted"]
    handled = [(e["from"], e["i"]) for r in results for e in r["handled"]]
    assert len(emitted) == len(set(emitted)) == 2 * per_process
    assert len(handled) == len(set(handled)) == 2 * per_process  # none twice
    assert set(handled) == {(n, i) for n in ("a", "b") for i in range(per_process)}  # none lost
    # both processes did part of the work, and the store is empty afterwards
    assert all(r["handled"] for r in results)
    app = conveyor.App(url)
    assert app.messages() == []
    app.close()
