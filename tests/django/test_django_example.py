"""The example project (examples/django_project) as its docs run it: ``python -m conveyor.django run``
as a real runner process, tasks enqueued through Django by ``manage.py place_order`` in another, the
results read back through Django; the task signals fire in the processes they belong to."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "examples" / "django_project"


def test_the_example_project_runs_its_tasks_in_a_runner_process(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]),
        "DJANGO_SETTINGS_MODULE": "mysite.settings",
        "CONVEYOR_STORE": f"sqlite:///{tmp_path / 'conveyor.db'}",
        "EXAMPLE_DJANGO_DB": str(tmp_path / "django.db"),
    }
    runner = subprocess.Popen(
        [sys.executable, "-m", "conveyor.django", "run", "--processes", "1", "--concurrency", "4"],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        placed = subprocess.run(
            [sys.executable, "manage.py", "place_order", "7", "--email", "ada@example.com", "--wait", "60"],
            cwd=PROJECT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        runner.send_signal(signal.SIGTERM)
        log, _ = runner.communicate(timeout=60)
    assert placed.returncode == 0, placed.stderr
    receipt, total = (json.loads(line) for line in placed.stdout.splitlines())
    assert receipt["status"] == "SUCCESSFUL"
    assert receipt["return_value"] == "receipt for order 7 sent to ada@example.com"
    assert total["status"] == "SUCCESSFUL"
    assert total["return_value"] == {"order": 7, "total": 25.0, "attempt": 1}
    assert receipt["attempts"] == 1 and len(receipt["worker_ids"]) == 1
    assert runner.returncode == 0, log
    # task_enqueued fired in manage.py's process, task_started and task_finished in the runner's
    for result in (receipt, total):
        assert f"task {result['id']} enqueued READY" in placed.stderr
        assert f"task {result['id']} started RUNNING" in log, log
        assert f"task {result['id']} finished SUCCESSFUL" in log, log
    runner_pid = receipt["worker_ids"][0].split(":")[-1]
    assert f"pid {runner_pid}: task {receipt['id']} finished" in log
    assert f"pid {runner_pid}:" not in placed.stderr


def test_bad_input_to_the_runner_command_is_one_line_and_exit_2() -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    for args, says in (
        ([], "no Django settings"),
        (["--settings", "no_such_settings_module"], "No module named 'no_such_settings_module'"),
        (["--settings", "mysite.settings", "--backend", "other"], "TASKS has no ConveyorBackend 'other'"),
    ):
        out = subprocess.run(
            [sys.executable, "-m", "conveyor.django", "run", *args],
            cwd=PROJECT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert out.returncode == 2, out.stderr
        assert out.stderr.count("\n") == 1 and says in out.stderr, out.stderr
