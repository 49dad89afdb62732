"""Events are JSON values; anything else is one clear error naming where it is."""

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conveyor._codec import decode, encode_event, encode_result

LIMIT = 1_048_576

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=30,
)


@given(json_values)
def test_round_trip(value: Any) -> None:
    assert decode(encode_event(value, LIMIT)) == value


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"user": {"tags": {"a"}}}, "event['user']['tags']: set is not JSON-encodable"),
        ([1, 2, object()], "event[2]: object is not JSON-encodable"),
        ({"n": float("nan")}, "event['n']: float nan is not JSON-encodable"),
        ({"n": [math.inf]}, "event['n'][0]: float inf is not JSON-encodable"),
        ({1: "x"}, "event: dict key 1 is a int; JSON object keys must be str"),
        ({"big": 2**70}, "event['big']: int"),
        (b"bytes", "event: bytes is not JSON-encodable"),
    ],
)
def test_bad_values_name_path_and_type(event: Any, message: str) -> None:
    with pytest.raises(TypeError) as info:
        encode_event(event, LIMIT)
    assert str(info.value).startswith(message)


def test_size_limit_gives_both_sizes() -> None:
    with pytest.raises(ValueError, match=r"event is 1,002 bytes as JSON, over the limit of 1,000 bytes"):
        encode_event("x" * 1000, 1000)


def test_results_that_are_not_json_become_their_repr() -> None:
    assert encode_result({"a": 1}) == '{"a":1}'
    assert encode_result(None) is None
    assert decode(encode_result({1, 2}) or "") == "{1, 2}"
