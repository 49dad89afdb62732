"""Results in the runtime: a worker without ``results=`` adds nothing to a settle (no statement, no
plugin); the pruner plugin comes with one that has it; a refused batch settles its results apart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import conveyor
from conveyor._runtime._plugins import plugins_for
from conveyor._runtime._results import ResultPruner
from conveyor._runtime._settle import settle_apart
from conveyor._stores import ResultRecord, Settlement
from conveyor._stores._sqlite import SQLiteStore


def _statements_of_drain(app: conveyor.App) -> list[str]:
    store = app.store
    assert isinstance(store, SQLiteStore)
    seen: list[str] = []
    store._db.set_trace_callback(seen.append)
    try:
        app.drain()
    finally:
        store._db.set_trace_callback(None)
    return seen


def test_a_worker_without_results_runs_no_results_statement(tmp_path: Path) -> None:
    app = conveyor.App(f"sqlite:///{tmp_path / 'c.db'}")

    @app.worker("plain")
    def plain(event: Any) -> int:
        return 1

    @app.worker("kept", results=60)
    def kept(event: Any) -> int:
        return 2

    app.emit_many([(i, "plain") for i in range(20)])
    plain_statements = _statements_of_drain(app)
    assert plain_statements and not [s for s in plain_statements if "results" in s]
    app.emit_many([(i, "kept") for i in range(20)])
    assert [s for s in _statements_of_drain(app) if "INSERT INTO results" in s]
    app.close()


def test_the_pruner_plugin_comes_only_with_a_worker_that_keeps_results(tmp_path: Path) -> None:
    app = conveyor.App(f"sqlite:///{tmp_path / 'c.db'}")
    app.worker("plain")(lambda event: None)
    assert [p.name for p in plugins_for(app.registry, app.store, "r", lambda: None)] == ["stats-pruner"]
    app.worker("kept", results=1)(lambda event: None)
    (plugin, _stats) = plugins_for(app.registry, app.store, "r", lambda: None)
    assert isinstance(plugin, ResultPruner)
    app.close()


def test_a_refused_batch_settles_its_results_message_by_message() -> None:
    good = ResultRecord(1, "w", "ok", "1", False, None, 60.0)
    bad = ResultRecord(2, "w", "ok", "2", False, None, 60.0)
    settled: list[Settlement] = []

    def settle(piece: Settlement) -> None:
        if 2 in piece.complete and piece.results and piece.results[0].outcome == "ok":
            raise ValueError("refused")
        settled.append(piece)

    batch = Settlement(complete=[1, 2], results=[good, bad])
    settle_apart(settle, batch, ValueError("refused"))
    assert (settled[0].complete, settled[0].results) == ([1], [good])
    (second,) = [p for p in settled if p.complete == [2]]
    (kept,) = second.results
    assert (kept.message_id, kept.outcome, kept.value) == (2, "dead", None)
    assert kept.error is not None and kept.error.startswith("StoreRefused")
