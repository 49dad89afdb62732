"""Finished messages and traces do not grow the database: a second round of the same work reuses the
pages the first round freed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import conveyor


def db_bytes(path: Path) -> int:
    return sum(os.path.getsize(p) for p in (path, Path(f"{path}-wal")) if p.exists())


def test_sqlite_file_stays_flat_across_rounds(tmp_path: Path) -> None:
    path = tmp_path / "retention.db"
    app = conveyor.App(f"sqlite:///{path}")

    @app.worker("w", traces=10, max_attempts=1)
    def handle(event: Any) -> str:
        if event["i"] % 100 == 0:
            raise RuntimeError("a failure, kept apart")
        return "x" * 200

    sizes = []
    for _ in range(3):
        app.emit_many([({"i": i, "pad": "y" * 200}, "w") for i in range(10_000)])
        app.drain()
        app.discard_dead()
        app.store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[attr-defined]
        sizes.append(db_bytes(path))
    print("sizes", sizes)
    assert len(app.traces("w")) == 20  # 10 newest + 10 newest failures
    assert app.messages() == []
    # rounds two and three reuse the first round's pages: no growth beyond a few pages
    assert sizes[2] <= sizes[1] * 1.05 + 65536, sizes
    assert sizes[1] <= sizes[0] * 1.05 + 65536, sizes
    app.close()
