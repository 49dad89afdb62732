"""The examples in the docs are real files, and they run."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_quickstart_runs(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py"), f"sqlite:///{tmp_path / 'q.db'}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "sending 'welcome' to ada@example.com (attempt 1, parent 1)" in out
    assert "processed 2 messages" in out
    assert "['WARNING shop: new user ada@example.com']" in out


@pytest.mark.filterwarnings("ignore:Using `httpx`")  # starlette prefers httpx2; either works
def test_fastapi_example_emits_runs_and_mounts_the_dashboard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    monkeypatch.setenv("CONVEYOR_STORE", f"sqlite:///{tmp_path / 'shop.db'}")
    monkeypatch.setenv("CONVEYOR_TOKEN", "a-token-for-the-example-test")
    spec = importlib.util.spec_from_file_location("fastapi_example", ROOT / "examples" / "fastapi_app.py")
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    with TestClient(example.api) as client:  # runs the lifespan: its runner handles the messages
        first = client.post("/signups", json={"email": "ada@example.com"})
        assert first.status_code == 202
        message_id = first.json()["message"]
        again = client.post("/signups", json={"email": "ada@example.com"})
        done = client.get(f"/signups/{message_id}")
        assert done.json() == {"result": "welcome sent to ada@example.com"}
        assert again.json()["message"] in (message_id, message_id + 1)  # the key while it was queued
        assert client.post("/signups", json={"email": 7}).status_code == 422
        workers = client.get(
            "/conveyor/api/workers", headers={"Authorization": "Bearer a-token-for-the-example-test"}
        )
        assert workers.status_code == 200
        assert "send-welcome" in workers.text
        assert client.get("/conveyor/api/workers").status_code == 401
    assert example.app.messages() == []  # the lifespan's runner finished what was emitted
    example.app.close()


def test_hooks_example_carries_the_tenant_and_prints_one_trace(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "hooks_app.py"), f"sqlite:///{tmp_path / 'h.db'}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "signup of ada@example.com for tenant acme" in out
    assert "welcome mail to ada@example.com for tenant acme" in out
    assert "outcomes: {('signup', 'ok'): 1, ('send-email', 'ok'): 1}" in out
    spans = {
        name: (span_id, parent)
        for name, span_id, parent in re.findall(
            r"^span (.+?) [A-Z]+ (\w+)(?: \(child of (\w+)\))?$", out, re.M
        )
    }
    assert spans["send signup"][1] == spans["POST /signup"][0]
    assert spans["process signup"][1] == spans["send signup"][0]
    assert spans["send send-email"][1] == spans["process signup"][0]
    assert spans["process send-email"][1] == spans["send send-email"][0]
