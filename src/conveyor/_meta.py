"""``Message.meta``: str -> str carried with a message (set by ``on_emit`` hooks), stored as JSON text."""

from __future__ import annotations

import orjson

from ._codec import storable_text

__all__ = ["MAX_META_BYTES", "decode_meta", "encode_meta"]

MAX_META_BYTES = 4096
"""The most ``meta`` may take, encoded as JSON (UTF-8)."""


def encode_meta(meta: object) -> str | None:
    """``meta`` as stored: JSON text, None when empty; ValueError for anything but str -> str within
    ``MAX_META_BYTES``."""
    if not isinstance(meta, dict):
        raise ValueError(f"meta must be a dict of str to str, not {type(meta).__name__}")
    if not meta:
        return None
    for name, value in meta.items():
        if not isinstance(name, str) or not name or not storable_text(name):
            raise ValueError(
                f"meta keys must be non-empty str without NUL or lone surrogates, not {name!r:.80}"
            )
        if not isinstance(value, str) or not storable_text(value):
            raise ValueError(
                f"meta[{name!r:.80}] must be a str without NUL or lone surrogates, not {value!r:.80}"
            )
    data = orjson.dumps(meta)
    if len(data) > MAX_META_BYTES:
        raise ValueError(f"meta takes {len(data):,} bytes as JSON; at most {MAX_META_BYTES:,} are allowed")
    return data.decode()


def decode_meta(stored: str | bytes | None) -> dict[str, str]:
    """A stored ``meta`` as a dict; what Conveyor never writes there (a hand edit) reads as its str
    items, or as an empty dict."""
    if stored is None:
        return {}
    try:
        value = orjson.loads(stored)
    except orjson.JSONDecodeError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(v, str)}
