"""Bad input at the CLI exits 2 with one line and changes nothing: delays, JSON, ids; and ``message ID``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result

import conveyor
from conveyor._cli import main


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_url"))
    return f"sqlite:///{tmp_path / 'cli.db'}"


def cli(url: str, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=input, env={"CONVEYOR_STORE": url})


def refused(url: str, *args: str, says: str, input: str | None = None) -> None:
    result = cli(url, *args, input=input)
    assert result.exit_code == 2, (args, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and says in lines[0], lines
    assert result.stdout == ""


def listed(url: str) -> list[Any]:
    result = cli(url, "messages", "--json")
    assert result.exit_code == 0, result.stderr
    return list(orjson.loads(result.stdout))


@pytest.mark.parametrize("delay", ["inf", "1e300", "nan", "1e12", "315576001", "-1"])
def test_emit_refuses_a_delay_that_cannot_be_shown(url: str, delay: str) -> None:
    assert cli(url, "emit", "w", "1").exit_code == 0
    refused(url, "emit", "w", "2", "--delay", delay, says="--delay")
    assert [m["event"] for m in listed(url)] == [1]


def test_emit_takes_the_longest_delay_allowed(url: str) -> None:
    assert cli(url, "emit", "w", "1", "--delay", "315576000").exit_code == 0
    (m,) = listed(url)
    assert m["state"] == "scheduled"


DEEP = "[" * 1000 + "]" * 1000
BAD_JSON = [
    (DEEP, "nested deeper than"),
    ('{"a": ' * 300 + "1" + "}" * 300, "nested deeper than"),
    ("[18446744073709551616]", "64-bit"),
    ('{"n": 18446744073709551616}', "64-bit"),
    ("[-9223372036854775809]", "64-bit"),
    ("{nope", "malformed JSON"),
    ("NaN", "malformed JSON"),
]


@pytest.mark.parametrize(("text", "says"), BAD_JSON, ids=lambda v: v[:24] if isinstance(v, str) else v)
def test_emit_refuses_deep_nesting_and_ints_past_64_bits(url: str, text: str, says: str) -> None:
    assert cli(url, "emit", "w", "1").exit_code == 0
    refused(url, "emit", "w", text, says=says)
    refused(url, "emit", "w", says=says, input=text)
    assert [m["event"] for m in listed(url)] == [1]


def test_emit_keeps_64_bit_ints_exactly(url: str) -> None:
    event = [2**63 - 1, -(2**63), 2**64 - 1]
    assert cli(url, "emit", "w", orjson.dumps(event).decode()).exit_code == 0
    assert listed(url)[0]["event"] == event


BAD_IDS = [
    "9223372036854775808",
    "99999999999999999999999999",
    "+25",
    " 25",
    "25 ",
    "2_5",
    "٢٥",
    "0",
    "0x19",
    "25.0",
]


@pytest.mark.parametrize("command", ["cancel", "retry", "discard", "message"])
@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
def test_ids_are_plain_ascii_digits_in_range(url: str, command: str, bad: str) -> None:
    refused(url, command, bad, says="message id")


def test_the_largest_id_is_taken(url: str) -> None:
    result = cli(url, "cancel", "9223372036854775807")
    assert result.exit_code == 1 and "not queued" in result.stderr


def test_message_shows_one_message_as_text_and_json(url: str) -> None:
    app = conveyor.App(url)
    try:

        @app.worker("fail", max_attempts=1, backoff=0)
        def fail(event: Any) -> None:
            raise RuntimeError("it broke")

        dead = app.emit({"n": 1}, "fail")
        app.drain(timeout=30)
        queued = app.emit({"n": 2}, "fail", key="k-2")
    finally:
        app.close()
    result = cli(url, "message", str(queued), "--json")
    assert result.exit_code == 0, result.stderr
    shown = orjson.loads(result.stdout)
    assert (shown["id"], shown["worker"], shown["event"], shown["state"], shown["key"]) == (
        queued,
        "fail",
        {"n": 2},
        "queued",
        "k-2",
    )
    assert shown == next(m for m in listed(url) if m["id"] == queued)
    text = cli(url, "message", str(dead))
    assert text.exit_code == 0, text.stderr
    for part in (f"id {dead}", "worker fail", "state dead", "attempt 1", '{"n":1}', "it broke"):
        assert part in " ".join(text.stdout.split()), text.stdout
    gone = cli(url, "message", str(queued + 1000))
    assert gone.exit_code == 1
    assert (
        gone.stderr.strip()
        == f"Error: no message {queued + 1000} (finished, cancelled, discarded or never emitted)"
    )
