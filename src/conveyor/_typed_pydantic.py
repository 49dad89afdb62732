"""Typed events with a pydantic v2 model (``conveyor[pydantic]``). pydantic is not imported here: the
model class and its ``ValidationError`` come from the caller, who found them in ``sys.modules``."""

from __future__ import annotations

from typing import Any

from ._typed import EventType, error_path

__all__ = ["PydanticEvent"]


class PydanticEvent(EventType):
    __slots__ = ("validation_error",)

    def __init__(self, worker: str, cls: type, validation_error: type[Exception]) -> None:
        super().__init__(worker, cls)
        self.validation_error = validation_error

    def load(self, data: bytes | str, value: Any) -> Any:
        try:  # from the JSON text, as it is stored: a strict model takes JSON's strings for datetimes, UUIDs…
            return self.cls.model_validate_json(data)  # type: ignore[attr-defined]
        except self.validation_error as error:
            raise self.mismatch(_detail(error)) from error


def _detail(error: Any) -> str:
    parts = []
    for item in error.errors(include_url=False):
        where = error_path(item.get("loc", ()))
        parts.append(f"{where}: {item['msg']}" if where else str(item["msg"]))
    return "; ".join(parts) or str(error)
