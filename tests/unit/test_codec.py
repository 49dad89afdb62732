"""Events are JSON values; anything else is one clear error naming where it is."""

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conveyor._codec import MAX_DEPTH, decode, encode_event, encode_result, parse_json

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
        ({1: "x"}, "event: dict key 1 is an int; JSON object keys must be str"),
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


def nested(depth: int, leaf: Any = None) -> Any:
    """``depth`` containers, one inside the other (lists and dicts in turn)."""
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


def test_nesting_up_to_the_limit_round_trips() -> None:
    value = nested(MAX_DEPTH, 1)
    assert decode(encode_event(value, LIMIT)) == value
    assert parse_json(encode_event(value, LIMIT)) == value


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1000, 100_000])
def test_deeper_nesting_is_refused_naming_the_limit(depth: int) -> None:
    with pytest.raises(ValueError, match=f"nested deeper than {MAX_DEPTH} levels"):
        encode_event(nested(depth), LIMIT)


def test_a_container_that_holds_itself_is_refused() -> None:
    loop: list[Any] = [1]
    loop.append({"again": loop})
    with pytest.raises(
        ValueError, match=rf"event\[1\]\['again'\]: the list contains itself.*at most {MAX_DEPTH} levels"
    ):
        encode_event(loop, LIMIT)


def test_parse_json_reads_what_encode_event_writes() -> None:
    assert parse_json(b'{"a": [1, 2.5, "x", null, true]}') == {"a": [1, 2.5, "x", None, True]}
    assert parse_json('"text"') == "text"
    assert parse_json(str(2**64 - 1)) == 2**64 - 1
    assert parse_json(str(-(2**63))) == -(2**63)
    assert parse_json("[1e19, -1.5e300]") == [1e19, -1.5e300]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "malformed JSON: unexpected end of data"),
        ("", "malformed JSON"),
        ("[1,]", "malformed JSON"),
        ("NaN", "malformed JSON"),
        ("1e400", "malformed JSON: number is infinity"),
        (b"\xff", "malformed JSON"),
        (str(2**64), f"int {2**64} is outside the 64-bit range"),
        (
            '{"a": [-9223372036854775809]}',
            r"\['a'\]\[0\]: int -9223372036854775809 is outside the 64-bit range",
        ),
        ("[" + "1" * 40 + ".0, " + "9" * 40 + "]", "is outside the 64-bit range"),
    ],
)
def test_parse_json_refuses_with_one_clear_message(text: str | bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        parse_json(text)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1025, 100_000])
def test_parse_json_refuses_nesting_past_the_limit(depth: int) -> None:
    with pytest.raises(ValueError, match=f"nested deeper than {MAX_DEPTH} levels"):
        parse_json("[" * depth + "]" * depth)
