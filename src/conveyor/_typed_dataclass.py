"""Typed events with a dataclass: no dependency. The fields' types are read once, at ``@app.worker``, into
converters that check a JSON value and build the instance (nested dataclasses included).

A dataclass event holds JSON types: ``str``, ``int``, ``float`` (an int is taken), ``bool``, ``None``,
``Any``, ``list[T]``, ``tuple[T, ...]``, ``dict[str, T]``, ``X | Y``, ``Literal[...]`` and nested
dataclasses; anything else (a datetime, an enum, a set) is a TypeError at ``@app.worker``, because
``dataclasses.asdict`` would leave it as a value JSON cannot hold. Keys the dataclass does not have are
ignored (as pydantic does by default); a field without a default must be there. What ``__init__`` or
``__post_init__`` raises (ValueError, TypeError) is a mismatch too, with its message.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import types
import typing
from collections.abc import Callable
from typing import Any

from ._typed import EventType, error_path

__all__ = ["DataclassEvent"]

Convert = Callable[[Any], Any]

_JSON_NAMES = {
    str: "str",
    int: "int",
    float: "float",
    bool: "bool",
    type(None): "None",
    list: "list",
    dict: "dict",
}


class _Bad(Exception):
    """A value that does not fit, at ``path`` (filled in on the way out)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.path: list[str | int] = []


class DataclassEvent(EventType):
    __slots__ = ("_convert",)

    def __init__(self, worker: str, cls: type) -> None:
        super().__init__(worker, cls)
        self._convert = _Compiler(worker).dataclass(cls)

    def load(self, data: bytes | str, value: Any) -> Any:
        try:
            return self._convert(value)
        except _Bad as bad:
            where = error_path(bad.path)
            raise self.mismatch(f"{where}: {bad.message}" if where else bad.message) from None


def _got(value: Any) -> str:
    return _JSON_NAMES.get(type(value), type(value).__name__)


class _Compiler:
    def __init__(self, worker: str) -> None:
        self.worker = worker
        self.done: dict[type, Convert] = {}
        """Dataclasses already compiled (or being compiled: a dataclass may hold itself)."""

    def dataclass(self, cls: type) -> Convert:
        known = self.done.get(cls)
        if known is not None:
            return known
        fields: list[tuple[str, Convert, bool]] = []

        def convert(value: Any) -> Any:
            if type(value) is not dict:
                raise _Bad(f"expected an object for {cls.__qualname__}, got {_got(value)}")
            kwargs = {}
            for name, field_convert, required in fields:
                if name in value:
                    try:
                        kwargs[name] = field_convert(value[name])
                    except _Bad as bad:
                        bad.path.insert(0, name)
                        raise
                elif required:
                    missing = _Bad("field required")
                    missing.path.append(name)
                    raise missing
            try:
                return cls(**kwargs)
            except (TypeError, ValueError) as error:
                raise _Bad(f"{cls.__qualname__}() raised {type(error).__name__}: {error}") from None

        self.done[cls] = convert
        try:
            hints = typing.get_type_hints(cls)
        except Exception as error:
            raise TypeError(
                f"worker {self.worker!r}: the field annotations of {cls.__qualname__} cannot be resolved "
                f"({type(error).__name__}: {error})"
            ) from None
        for field in dataclasses.fields(cls):
            if not field.init:
                continue
            where = f"{cls.__qualname__}.{field.name}"
            required = field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
            fields.append((field.name, self.of(hints.get(field.name, Any), where), required))
        return convert

    def of(self, tp: Any, where: str) -> Convert:
        if tp is Any or tp is object:
            return _same
        if tp in _SCALARS:
            return _SCALARS[tp]
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            return self.dataclass(tp)
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if tp in (list, collections.abc.Sequence) or origin in (list, collections.abc.Sequence):
            return _list(self.of(args[0], f"{where}[]") if args else _same)
        if tp is tuple or origin is tuple:
            return self._tuple(args, where)
        if tp in (dict, collections.abc.Mapping) or origin in (dict, collections.abc.Mapping):
            if args and args[0] not in (str, Any):
                raise self._refused(where, tp, "JSON object keys are str")
            return _dict(self.of(args[1], f"{where}[]") if args else _same)
        if origin is typing.Union or origin is types.UnionType:
            return _union([self.of(arg, where) for arg in args], args)
        if origin is typing.Literal:
            return _literal(args)
        raise self._refused(where, tp, "not a JSON type")

    def _tuple(self, args: tuple[Any, ...], where: str) -> Convert:
        if not args:
            return _tuple_of(_same)
        if len(args) == 2 and args[1] is Ellipsis:
            return _tuple_of(self.of(args[0], f"{where}[]"))
        return _fixed_tuple([self.of(arg, f"{where}[]") for arg in args])

    def _refused(self, where: str, tp: Any, why: str) -> TypeError:
        shown = tp.__qualname__ if isinstance(tp, type) else repr(tp)
        return TypeError(
            f"worker {self.worker!r}: {where} is {shown}, which a dataclass event cannot hold ({why}); "
            "use str, int, float, bool, None, Any, list, tuple, dict[str, ...], unions, Literal and "
            "dataclasses, or a pydantic model for richer types"
        )


def _same(value: Any) -> Any:
    return value


def _exact(cls: type) -> Convert:
    name = _JSON_NAMES[cls]

    def convert(value: Any) -> Any:
        if type(value) is not cls:
            raise _Bad(f"expected {name}, got {_got(value)}")
        return value

    return convert


def _float(value: Any) -> Any:
    if type(value) is float:
        return value
    if type(value) is int:
        return float(value)
    raise _Bad(f"expected float, got {_got(value)}")


_SCALARS: dict[Any, Convert] = {
    str: _exact(str),
    int: _exact(int),
    bool: _exact(bool),
    float: _float,
    None: _exact(type(None)),
    type(None): _exact(type(None)),
}


def _items(values: Any, convert: Convert) -> list[Any]:
    out = []
    for index, item in enumerate(values):
        try:
            out.append(convert(item))
        except _Bad as bad:
            bad.path.insert(0, index)
            raise
    return out


def _list(convert: Convert) -> Convert:
    def convert_list(value: Any) -> Any:
        if type(value) not in (list, tuple):
            raise _Bad(f"expected list, got {_got(value)}")
        return value if convert is _same else _items(value, convert)

    return convert_list


def _tuple_of(convert: Convert) -> Convert:
    def convert_tuple(value: Any) -> Any:
        if type(value) not in (list, tuple):
            raise _Bad(f"expected list, got {_got(value)}")
        return tuple(_items(value, convert))

    return convert_tuple


def _fixed_tuple(converts: list[Convert]) -> Convert:
    def convert_tuple(value: Any) -> Any:
        if type(value) not in (list, tuple):
            raise _Bad(f"expected list, got {_got(value)}")
        if len(value) != len(converts):
            raise _Bad(f"expected {len(converts)} items, got {len(value)}")
        out = []
        for index, (item, convert) in enumerate(zip(value, converts, strict=True)):
            try:
                out.append(convert(item))
            except _Bad as bad:
                bad.path.insert(0, index)
                raise
        return tuple(out)

    return convert_tuple


def _dict(convert: Convert) -> Convert:
    def convert_dict(value: Any) -> Any:
        if type(value) is not dict:
            raise _Bad(f"expected dict, got {_got(value)}")
        if convert is _same:
            return value
        out = {}
        for key, item in value.items():
            try:
                out[key] = convert(item)
            except _Bad as bad:
                bad.path.insert(0, key)
                raise
        return out

    return convert_dict


def _union(converts: list[Convert], args: tuple[Any, ...]) -> Convert:
    names = " or ".join("None" if a is type(None) else getattr(a, "__qualname__", repr(a)) for a in args)
    others = [c for c, a in zip(converts, args, strict=True) if a is not type(None)]
    optional = len(others) == 1 and len(converts) == 2

    def convert_union(value: Any) -> Any:
        if optional:  # X | None: None, or X with X's own error
            return None if value is None else others[0](value)
        for convert in converts:
            try:
                return convert(value)
            except _Bad:
                continue
        raise _Bad(f"expected {names}, got {_got(value)}")

    return convert_union


def _literal(values: tuple[Any, ...]) -> Convert:
    allowed = [(type(v), v) for v in values]

    def convert_literal(value: Any) -> Any:
        if (type(value), value) not in allowed:
            raise _Bad(f"expected one of {', '.join(repr(v) for v in values)}, got {value!r:.80}")
        return value

    return convert_literal
