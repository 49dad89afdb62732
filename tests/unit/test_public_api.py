"""The public surface is exactly ``conveyor.__all__`` (httpx-style guard)."""

import types

import conveyor


def test_all_is_exactly_the_public_names() -> None:
    public = {
        name
        for name, value in vars(conveyor).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert set(conveyor.__all__) == public


def test_contract_names_are_exported() -> None:
    for name in (
        "App",
        "Message",
        "WorkerStatus",
        "Trace",
        "Incomplete",
        "Retry",
        "Cancel",
        "emit",
        "ScheduleStatus",
        "Failed",
    ):
        assert name in conveyor.__all__


PUBLIC_MODULES = {"testing", "django"}
"""Submodules the contract names (``conveyor.testing``, the pytest plugin; ``conveyor.django``, the
backend of Django's tasks); the rest are private."""


def test_implementation_modules_are_private() -> None:
    import conveyor.django  # imported by tests/django, or not yet
    import conveyor.testing  # loaded by pytest (pytest11) or by a test's import

    modules = {name for name, value in vars(conveyor).items() if isinstance(value, types.ModuleType)}
    # "@py_builtins" and "@pytest_ar": pytest's assertion rewriting, when it loads the plugin's package
    assert {name for name in modules if not name.startswith(("_", "@"))} == PUBLIC_MODULES, modules


def test_the_core_never_imports_django() -> None:
    import subprocess
    import sys

    import conveyor.django

    code = (
        "import sys, conveyor, conveyor.testing; conveyor.App('sqlite:///:memory:').status(); "
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith(('django.', 'django_tasks'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
    assert conveyor.django.__all__ == ["DEFAULT_WORKER_OPTIONS", "ConveyorBackend", "worker_name"]


def test_no_pickle_anywhere() -> None:
    import pathlib

    root = pathlib.Path(conveyor.__file__).parent
    for path in root.rglob("*.py"):
        text = path.read_text()
        assert "import pickle" not in text and "pickle." not in text, path
