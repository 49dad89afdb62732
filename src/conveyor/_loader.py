"""Find the App a command names: ``module:attr``, ``module``, ``path/file.py`` or ``path/file.py:attr``."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._app import App

__all__ = ["AppImportError", "AppNotFound", "load_app"]


class AppNotFound(ValueError):
    """The APP argument names no module, file or App."""


class AppImportError(Exception):
    """The APP's module was found but importing it failed (it raised, has a syntax error, or misses a
    dependency). The message is one line naming the file, the line and the error; ``__cause__`` is
    the original exception, with its traceback."""


def load_app(ref: str) -> App:
    from ._app import App

    target, _, attr = ref.partition(":")
    if target.endswith(".py") or "/" in target or Path(target).is_file():
        module = _load_file(target)
    else:
        if "" not in sys.path and "." not in sys.path:
            sys.path.insert(0, "")
        try:
            module = importlib.import_module(target)
        except ModuleNotFoundError as error:
            if error.name is not None and (target == error.name or target.startswith(error.name + ".")):
                raise AppNotFound(f"cannot import module {target!r}: {error}") from error
            raise AppImportError(f"cannot import {target}: {_describe(error)}") from error
        except Exception as error:
            raise AppImportError(f"cannot import {target}: {_describe(error)}") from error
    if attr:
        found = getattr(module, attr, None)
        if not isinstance(found, App):
            raise AppNotFound(f"{ref}: {attr!r} is not a conveyor.App")
        return found
    apps = [value for value in vars(module).values() if isinstance(value, App)]
    if len(apps) != 1:
        raise AppNotFound(f"{ref}: found {len(apps)} conveyor.App objects; name one as {target}:attr")
    return apps[0]


def _load_file(target: str) -> ModuleType:
    path = Path(target)
    if not path.is_file():
        raise AppNotFound(f"no such file: {target}")
    name = f"_conveyor_app_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise AppNotFound(f"cannot import {target}")
    module = importlib.util.module_from_spec(spec)
    folder = str(path.resolve().parent)
    sys.modules[name] = module
    sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        sys.modules.pop(name, None)
        if folder in sys.path:
            sys.path.remove(folder)
        raise AppImportError(f"cannot import {target}: {_describe(error)}") from error
    return module


def _describe(error: BaseException) -> str:
    """``Type: message (at file:line)`` for an import that failed: where the error was raised (the
    innermost frame outside Python's import machinery), or where a syntax error is."""
    where = ""
    if isinstance(error, SyntaxError) and error.filename:
        where = f" (at {_short(error.filename)}:{error.lineno})"
        message = error.msg
    else:
        frames = [
            frame
            for frame in traceback.extract_tb(error.__traceback__)
            if not frame.filename.startswith("<frozen ") and frame.filename != __file__
        ]
        if frames:
            where = f" (at {_short(frames[-1].filename)}:{frames[-1].lineno})"
        message = str(error)
    text = " ".join(f"{type(error).__name__}: {message}".split()) if message else type(error).__name__
    return text + where


def _short(filename: str) -> str:
    """A path relative to the working directory when it is below it, else as given."""
    try:
        return str(Path(filename).resolve().relative_to(Path.cwd()))
    except ValueError:
        return filename
