"""The pytest plugin ``conveyor.testing`` as a project uses it, in a pytest run of its own (pytester)."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]


def _plugin_args() -> list[str]:
    """``-p conveyor.testing`` unless the installed distribution already registers it (pytest11); and
    ``-p no:django``: these runs are in this process, whose Django settings tests/django configured, and
    pytest-django (a dev dependency) would set Django's test environment up a second time."""
    installed = {e.value for e in importlib.metadata.entry_points(group="pytest11")}
    return ["-p", "no:django"] + ([] if "conveyor.testing" in installed else ["-p", "conveyor.testing"])


def test_the_plugin_is_registered_through_pytest11(pytester: pytest.Pytester) -> None:
    """pyproject.toml's ``pytest11`` entry, as an installed distribution declares it, loads the plugin in
    a plain ``pytest`` run; ``-p no:conveyor`` leaves it out."""
    entries = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["pytest11"]
    assert entries == {"conveyor": "conveyor.testing"}
    dist = pytester.mkdir("site") / "conveyor_entry_check-0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: conveyor-entry-check\nVersion: 0\n")
    (dist / "entry_points.txt").write_text(
        "[pytest11]\n" + "".join(f"{name} = {value}\n" for name, value in entries.items())
    )
    pytester.makepyfile("def test_it(conveyor_app):\n    assert conveyor_app.messages() == []\n")
    installed = {e.value for e in importlib.metadata.entry_points(group="pytest11")}
    path = [str(pytester.path / "site")] if "conveyor.testing" not in installed else []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*path, str(ROOT / "src")])}
    env.pop("PYTEST_ADDOPTS", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
        return subprocess.run(
            command, check=False, cwd=pytester.path, env=env, capture_output=True, text=True, timeout=120
        )

    assert run().returncode == 0
    left_out = run("-p", "no:conveyor")
    assert left_out.returncode == 1 and "fixture 'conveyor_app' not found" in left_out.stdout


def test_the_documented_example_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_signup=(ROOT / "examples" / "pytest_example.py").read_text())
    result = pytester.runpytest(*_plugin_args())
    result.assert_outcomes(passed=2)


def test_a_fresh_app_per_test_drain_and_emitted(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import conveyor
        from conveyor.testing import drain, emitted

        SENT = []

        def define(app):
            @app.worker("signup")
            def signup(event):
                conveyor.emit({"to": event["email"]}, "send-email")

            @app.worker("send-email")
            def send(event):
                SENT.append(event["to"])

        def test_first(conveyor_app):
            define(conveyor_app)
            conveyor_app.emit({"email": "ada@example.com"}, "signup")
            assert emitted(conveyor_app, "signup") == [{"email": "ada@example.com"}]
            assert emitted(conveyor_app, "send-email") == []
            assert drain(conveyor_app) == 2
            assert SENT == ["ada@example.com"]
            assert emitted(conveyor_app, "signup") == []

        def test_second_starts_empty(conveyor_app):
            assert conveyor_app.messages() == []
            assert conveyor_app.registry.names() == []
            assert "conveyor-test.db" in conveyor_app.url
        """
    )
    result = pytester.runpytest(*_plugin_args())
    result.assert_outcomes(passed=2)


def test_drain_raises_the_first_handler_error_unless_told_not_to(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from conveyor.testing import HandlerError, drain

        def test_raises(conveyor_app):
            @conveyor_app.worker("charge", max_attempts=1)
            def charge(event):
                if event == "bad":
                    raise ValueError("card declined")

            conveyor_app.emit("good", "charge")
            conveyor_app.emit("bad", "charge")
            with pytest.raises(HandlerError, match="card declined") as info:
                drain(conveyor_app)
            assert info.value.trace.worker == "charge"
            assert "ValueError" in str(info.value)
            assert conveyor_app.dead("charge")[0].event == "bad"

        def test_told_not_to(conveyor_app):
            @conveyor_app.worker("charge", max_attempts=1)
            def charge(event):
                raise ValueError("card declined")

            conveyor_app.emit("bad", "charge")
            assert drain(conveyor_app, raise_errors=False) == 1
            assert drain(conveyor_app) == 0  # an earlier failure is not raised again

        def test_retry_is_not_an_error(conveyor_app):
            import conveyor

            @conveyor_app.worker("later")
            def later(event):
                raise conveyor.Retry(delay=60)

            conveyor_app.emit(1, "later")
            assert drain(conveyor_app) == 1

        def test_unhandled_failure_fails_the_test(conveyor_app):
            @conveyor_app.worker("w", max_attempts=3, backoff=60)
            def w(event):
                1 / 0

            conveyor_app.emit(1, "w")
            drain(conveyor_app)
        """
    )
    result = pytester.runpytest(*_plugin_args())
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        ["*HandlerError: worker 'w', message 1 (attempt 1) failed: ZeroDivisionError*"]
    )


def test_the_configured_project_app_gets_a_fresh_store_and_its_own_back(pytester: pytest.Pytester) -> None:
    own = pytester.path / "own.db"
    pytester.makepyfile(
        tasks=f"""
        import conveyor

        app = conveyor.App("sqlite:///{own}")

        @app.worker("w")
        def w(event):
            pass
        """,
        test_project=f"""
        import tasks
        from conveyor.testing import drain, emitted

        def test_one(conveyor_app):
            assert conveyor_app is tasks.app
            assert conveyor_app.url != "sqlite:///{own}"
            tasks.app.emit(1, "w")
            assert emitted(conveyor_app, "w") == [1]
            assert drain(conveyor_app) == 1

        def test_two(conveyor_app):
            assert conveyor_app.messages() == []

        def test_after():
            assert tasks.app.url == "sqlite:///{own}"
        """,
    )
    pytester.makeini("[pytest]\nconveyor_app = tasks:app\n")
    pytester.syspathinsert()
    result = pytester.runpytest(*_plugin_args())
    result.assert_outcomes(passed=3)
    assert not own.exists()  # the project's own store was never opened


def test_nothing_applies_unless_a_test_asks(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_untouched(tmp_path):
            assert not list(tmp_path.iterdir())
        """
    )
    result = pytester.runpytest(*_plugin_args(), "--fixtures")
    result.stdout.fnmatch_lines(["*conveyor_app*", "*fresh SQLite store*"])
    result = pytester.runpytest(*_plugin_args(), "--fixtures-per-test")
    used = result.stdout.str().split("fixtures used by test_untouched", 1)[1]
    assert "conveyor" not in used  # no autouse fixture of the plugin's
    result = pytester.runpytest(*_plugin_args())
    result.assert_outcomes(passed=1)
    assert not list(pytester.path.glob("*.db"))
