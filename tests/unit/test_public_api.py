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
        "OutgoingMessage",
    ):
        assert name in conveyor.__all__


PUBLIC_MODULES = {"testing", "otel"}
"""Submodules the contract names (``conveyor.testing``, the pytest plugin; ``conveyor.otel``); the rest
are private."""


def test_implementation_modules_are_private() -> None:
    import conveyor.otel
    import conveyor.testing  # loaded by pytest (pytest11) or by a test's import

    modules = {name for name, value in vars(conveyor).items() if isinstance(value, types.ModuleType)}
    # "@py_builtins" and "@pytest_ar": pytest's assertion rewriting, when it loads the plugin's package
    assert {name for name in modules if not name.startswith(("_", "@"))} == PUBLIC_MODULES, modules


def test_no_pickle_anywhere() -> None:
    import pathlib

    root = pathlib.Path(conveyor.__file__).parent
    for path in root.rglob("*.py"):
        text = path.read_text()
        assert "import pickle" not in text and "pickle." not in text, path
