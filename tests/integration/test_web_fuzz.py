"""Fuzz the HTTP API against its own OpenAPI document: any input gets a JSON answer, never a 500."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import conveyor
from conveyor._web import create_app
from conveyor._web._openapi import openapi_document

warnings.filterwarnings("ignore", message="Using `httpx`")
from starlette.testclient import TestClient  # noqa: E402

DOC = openapi_document()
OPERATIONS = sorted(
    (path, method) for path, item in DOC["paths"].items() for method in item if path != "/api/stream"
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)
names = st.sampled_from(["work", "ghost", "a/b", "x.y:z"]) | st.text(max_size=12)
ids = st.integers(min_value=-5, max_value=2**70).map(str) | st.text(max_size=8)
param_values = (
    st.text(max_size=12)
    | st.integers(-3, 20_000).map(str)
    | st.sampled_from(["queued", "dead", "nan", "inf"])
)
bodies = (
    st.none()
    | st.binary(max_size=64)
    | json_values.map(orjson.dumps)
    | st.fixed_dictionaries(
        {}, optional={"id": json_values, "worker": names | json_values, "reason": json_values}
    ).map(orjson.dumps)
)


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, dict[str, str], bytes | None]:
    path, method = draw(st.sampled_from(OPERATIONS))
    concrete = path
    for placeholder, strategy in (("{worker}", names), ("{name}", names), ("{id}", ids)):
        if placeholder in concrete:
            concrete = concrete.replace(placeholder, quote(draw(strategy), safe="") or "x")
    operation = DOC["paths"][path][method]
    params = {}
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "query" and draw(st.booleans()):
            params[parameter["name"]] = draw(param_values)
    if draw(st.booleans()):
        params[draw(st.text(min_size=1, max_size=6))] = draw(param_values)
    return method.upper(), concrete, params, draw(bodies)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = conveyor.App("sqlite:///:memory:")

    @app.worker("work")
    def work(event: Any) -> None: ...

    with TestClient(
        create_app(app, token=""),
        base_url="http://127.0.0.1",
        client=("127.0.0.1", 50000),
        headers={"X-Conveyor-Request": "1"},
    ) as c:
        yield c
    app.close()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=requests())
def test_any_request_gets_json_and_never_a_500(
    client: TestClient, request: tuple[str, str, dict[str, str], Any]
) -> None:
    method, path, params, body = request
    response = client.request(method, path, params=params, content=body)
    assert response.status_code < 500, (method, path, params, body, response.text[:300])
    page_404 = response.status_code == 404 and path.startswith("/messages/")  # a page (documented HTML)
    if response.status_code >= 400 and not page_404:
        assert response.headers["content-type"].startswith("application/json"), response.text[:200]
        assert isinstance(response.json()["error"], str)
    elif response.headers["content-type"].startswith("application/json"):
        response.json()
