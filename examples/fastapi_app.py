"""Conveyor inside a FastAPI service: ``aemit`` from endpoints, the dashboard mounted beside the API, and
a runner started by the lifespan (a small deployment: one process serves HTTP and runs the workers).

    pip install "conveyor[web]" fastapi uvicorn
    CONVEYOR_STORE=sqlite:///shop.db uvicorn examples.fastapi_app:api

Larger deployments leave the lifespan's runner out and run ``conveyor run examples.fastapi_app:app``
beside the web processes (docs/running.md); the endpoints stay the same.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

import conveyor

app = conveyor.App()  # $CONVEYOR_STORE, else sqlite:///conveyor.db; opened on first use


@app.worker("send-welcome", results=300)
def send_welcome(event: dict[str, Any]) -> str:
    return f"welcome sent to {event['email']}"


@asynccontextmanager
async def lifespan(api: FastAPI) -> AsyncIterator[None]:
    stop = asyncio.Event()
    running = asyncio.create_task(app.runner(concurrency=8).serve(stop, grace=10))
    try:
        yield
    finally:
        stop.set()  # stop claiming; in-flight messages finish within grace, the rest go back queued
        await running
        app.close()


api = FastAPI(lifespan=lifespan)
api.mount("/conveyor", conveyor.web(app))  # dashboard and JSON API; token: $CONVEYOR_TOKEN


class Signup(BaseModel):
    email: str


@api.post("/signups", status_code=202)
async def signup(body: Signup) -> dict[str, int]:
    message_id = await app.aemit({"email": body.email}, "send-welcome", key=body.email)
    return {"message": message_id}


@api.get("/signups/{message_id}")
async def signup_done(message_id: int) -> dict[str, Any]:
    try:
        return {"result": await app.aresult(message_id, timeout=5)}
    except TimeoutError:
        return {"result": None}
