"""Find the App a command names: ``module:attr``, ``module``, ``path/file.py`` or ``path/file.py:attr``."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._app import App

__all__ = ["AppNotFound", "load_app"]


class AppNotFound(ValueError):
    """The APP argument names no module, file or App."""


def load_app(ref: str) -> App:
    from ._app import App

    target, _, attr = ref.partition(":")
    if target.endswith(".py") or "/" in target or Path(target).is_file():
        path = Path(target)
        if not path.is_file():
            raise AppNotFound(f"no such file: {target}")
        name = f"_conveyor_app_{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise AppNotFound(f"cannot import {target}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        sys.path.insert(0, str(path.resolve().parent))
        spec.loader.exec_module(module)
    else:
        if "" not in sys.path and "." not in sys.path:
            sys.path.insert(0, "")
        try:
            module = importlib.import_module(target)
        except ModuleNotFoundError as error:
            raise AppNotFound(f"cannot import module {target!r}: {error}") from error
    if attr:
        found = getattr(module, attr, None)
        if not isinstance(found, App):
            raise AppNotFound(f"{ref}: {attr!r} is not a conveyor.App")
        return found
    apps = [value for value in vars(module).values() if isinstance(value, App)]
    if len(apps) != 1:
        raise AppNotFound(f"{ref}: found {len(apps)} conveyor.App objects; name one as {target}:attr")
    return apps[0]
