"""``App.run`` arguments: bad input is one clear error before anything starts."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import conveyor
from conveyor._runtime._supervisor import app_ref, request_stop

app = conveyor.App("sqlite:///:memory:")


@app.worker("w")
def w(event: object) -> None:
    pass


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"processes": 0}, "processes must be an int >= 1"),
        ({"processes": 1.5}, "processes must be an int >= 1"),
        ({"concurrency": 0}, "concurrency must be an int >= 1"),
        ({"concurrency": True}, "concurrency must be an int >= 1"),
        ({"grace": -1}, "grace must be seconds >= 0"),
        ({"max_tasks_per_child": 0}, "max_tasks_per_child must be an int >= 1"),
        ({"max_memory_per_child": 0}, "max_memory_per_child (MB) must be seconds > 0"),
        ({"processes": 2}, "an in-memory store cannot be shared with other processes"),
    ],
)
def test_bad_arguments_raise_before_anything_runs(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as info:
        app.run(**options)  # type: ignore[arg-type]
    assert message in str(info.value)


def test_an_app_without_workers_has_nothing_to_run(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="defines no workers"):
        conveyor.App(f"sqlite:///{tmp_path / 'c.db'}").run()


def test_app_ref_names_a_module_attribute() -> None:
    assert app_ref(app) == f"{__name__}:app"
    assert app_ref(conveyor.App("sqlite:///:memory:")) is None


def test_in_process_run_stops_on_request_and_handles_messages(tmp_path: Path) -> None:
    local = conveyor.App(f"sqlite:///{tmp_path / 'c.db'}")  # not importable: served in this process
    seen: list[int] = []

    @local.worker("w")
    def handle(event: int) -> None:
        seen.append(event)
        if len(seen) == 3:
            request_stop()

    for i in range(3):
        local.emit(i, "w")
    thread = threading.Thread(target=local.run, kwargs={"processes": 1, "concurrency": 2})
    thread.start()
    thread.join(10)
    assert not thread.is_alive()
    assert sorted(seen) == [0, 1, 2]
    assert local.messages() == []
    local.close()
