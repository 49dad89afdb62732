"""Typed events: handlers that take a pydantic model or a dataclass (docs/typed-events.md).

Run: python examples/typed_events.py [STORE_URL]   (pydantic: pip install 'conveyor[pydantic]')
"""

from __future__ import annotations

import dataclasses
import sys

from pydantic import BaseModel

import conveyor

app = conveyor.App(sys.argv[1] if len(sys.argv) > 1 else "sqlite:///typed.db")


class Size(BaseModel):
    width: int
    height: int


class ResizeEvent(BaseModel):
    image: str
    size: Size


@dataclasses.dataclass
class Thumbnail:
    image: str
    pixels: int


@app.worker("resize")
def resize(event: ResizeEvent) -> None:  # gets a ResizeEvent, not a dict
    pixels = event.size.width * event.size.height
    conveyor.emit(Thumbnail(event.image, pixels), "thumbnail")  # encoded and checked like app.emit


@app.worker("thumbnail")
async def thumbnail(event: Thumbnail, msg: conveyor.Message) -> None:
    print(f"thumbnail of {event.image}: {event.pixels} pixels (message {msg.id})")


if __name__ == "__main__":
    app.emit(ResizeEvent(image="cat.png", size=Size(width=64, height=48)), "resize")
    app.emit({"image": "dog.png", "size": {"width": 32, "height": 32}}, "resize")  # a dict is checked too
    try:
        app.emit({"image": "fox.png", "size": {"width": "wide", "height": 10}}, "resize")
    except ValueError as error:
        print(error)  # nothing was written
    print(f"processed {app.drain()} messages")
