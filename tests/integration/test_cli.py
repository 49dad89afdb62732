"""The ``conveyor`` command, in-process through click's runner, on a real SQLite file."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
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


@pytest.fixture
def app(url: str) -> Iterator[conveyor.App]:  # overrides conftest's: the CLI needs a store others can open
    app = conveyor.App(url)

    @app.worker("work")
    def work(event: Any) -> Any:
        return {"echo": event}

    @app.worker("fail", max_attempts=1, backoff=0)
    def fail(event: Any) -> None:
        raise RuntimeError("it broke")

    yield app
    app.close()


def cli(url: str, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=input, env={"CONVEYOR_STORE": url})


def ok(url: str, *args: str, input: str | None = None) -> str:
    result = cli(url, *args, input=input)
    assert result.exit_code == 0, (args, result.output, result.stderr)
    return result.stdout


def as_json(url: str, *args: str) -> Any:
    return orjson.loads(ok(url, *args, "--json"))


def test_emit_from_argument_and_stdin_then_status_and_messages(url: str) -> None:
    first = int(ok(url, "emit", "work", '{"n": 1}'))
    second = int(ok(url, "emit", "work", input='{"n": 2}\n'))
    third = int(ok(url, "emit", "work", "-", "--delay", "60", input="[3]"))
    assert first < second < third
    (status,) = as_json(url, "status")
    assert status == {
        "name": "work",
        "queued": 2,
        "scheduled": 1,
        "running": 0,
        "dead": 0,
        "paused": False,
        "blocked": None,
        "unknown": True,  # no app defines it in this process
        "rate": None,
        "rate_limited": False,
    }
    table = ok(url, "status")
    assert "work" in table and "queued" in table
    listed = as_json(url, "messages", "work")
    assert [m["event"] for m in listed] == [{"n": 1}, {"n": 2}, [3]]
    assert [m["id"] for m in as_json(url, "messages", "--state", "scheduled")] == [third]
    assert "60" not in ok(url, "messages", "--limit", "1")
    assert ok(url, "cancel", str(third)).strip() == f"cancelled {third}"
    again = cli(url, "cancel", str(third))
    assert again.exit_code == 1 and "not queued" in again.stderr
    assert int(ok(url, "emit", "work", "{}", "--key", "k")) == int(
        ok(url, "emit", "work", "[]", "--key", "k")
    )


def test_rules(url: str) -> None:
    ok(url, "pause", "work")
    assert as_json(url, "status")[0]["paused"] is True
    ok(url, "resume", "work")
    ok(url, "block", "work", "--reason", "investigating")
    assert as_json(url, "status")[0]["blocked"] == "investigating"
    assert "blocked: investigating" in ok(url, "status")
    ok(url, "unblock", "work")
    # A worker with no messages and no rules left may drop out of the list; if listed, it is clear.
    assert all(not w["paused"] and w["blocked"] is None for w in as_json(url, "status"))


def test_traces_dead_retry_discard(url: str, app: conveyor.App) -> None:
    ok(url, "emit", "work", '{"n": 1}')
    for n in range(3):
        ok(url, "emit", "fail", str(n))
    assert app.drain(timeout=10) == 4
    (trace,) = as_json(url, "traces", "work")
    assert trace["outcome"] == "ok" and trace["result"] == {"echo": {"n": 1}}
    assert "ok" in ok(url, "traces", "work")
    dead = as_json(url, "dead")
    assert len(dead) == 3 and all("it broke" in m["last_error"] for m in dead)
    assert "it broke" in ok(url, "dead", "fail")
    assert ok(url, "retry", str(dead[0]["id"])).strip() == "retried 1 dead letter(s)"
    assert len(as_json(url, "dead", "fail")) == 2
    assert ok(url, "retry", "--worker", "fail").strip() == "retried 2 dead letter(s)"
    assert as_json(url, "dead") == []
    app.drain(timeout=10)
    assert ok(url, "discard", "--worker", "fail").strip() == "discarded 3 dead letter(s)"
    missing = cli(url, "retry", "999")
    assert missing.exit_code == 1 and missing.stderr.strip() == "Error: message 999 is not a dead letter"


def test_unknown_and_purge(url: str) -> None:
    for n in range(5):
        ok(url, "emit", "ghost", f'{{"n": {n}}}')
    (ghost,) = as_json(url, "unknown")
    assert ghost["name"] == "ghost" and ghost["count"] == 5
    assert "ghost" in ok(url, "unknown")
    assert ok(url, "purge", "ghost", "--yes").strip() == "purged 5 message(s) of ghost"
    assert as_json(url, "unknown") == []
    assert "no unknown workers" in ok(url, "unknown")


BAD = [
    (["emit", "bad name", "{}"], "invalid worker name"),
    (["emit", "work", "{nope"], "malformed JSON"),
    (["emit", "work", "{}", "--delay", "-1"], "--delay"),
    (["emit", "work", "{}", "--key", ""], "key must be"),
    (["emit", "work", "1e999999"], "JSON"),
    (["messages", "--state", "lost"], "--state"),
    (["messages", "bad name!"], "invalid worker name"),
    (["messages", "--limit", "0"], "--limit"),
    (["cancel", "abc"], "ID"),
    (["retry"], "give a message ID or --worker"),
    (["retry", "1", "--worker", "w"], "give a message ID or --worker"),
    (["discard", "--worker", "bad name"], "invalid worker name"),
    (["block", "work"], "--reason"),
    (["block", "work", "--reason", "  "], "reason"),
    (["pause", "-x"], "No such option"),
    (["traces"], "Missing argument"),
    (["nosuch"], "No such command"),
    (["run", "does/not/exist.py"], "no such file"),
    (["run", "json:nothing"], "is not a conveyor.App"),
    (["web", "--host", "0.0.0.0"], "CONVEYOR_TOKEN"),
    (["demo", "--host", "192.0.2.1"], "CONVEYOR_TOKEN"),
    (["status", "--store", "mysql://x"], "store"),
]


@pytest.mark.parametrize(("args", "says"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_exits_2_with_one_line(url: str, args: list[str], says: str) -> None:
    result = cli(url, *args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and says in lines[0], lines
    assert result.stdout == ""


def test_bad_input_changes_nothing(url: str) -> None:
    ok(url, "emit", "work", "1")
    before = ok(url, "messages", "--json")
    for args in (["emit", "work", "{nope"], ["emit", "bad name", "1"], ["block", "work", "--reason", ""]):
        assert cli(url, *args).exit_code == 2
    assert ok(url, "messages", "--json") == before
    assert as_json(url, "status")[0]["blocked"] is None


def test_run_refuses_non_loopback_without_token(tmp_path: Path, url: str) -> None:
    script = tmp_path / "one.py"
    script.write_text("import conveyor\napp = conveyor.App()\n@app.worker('w')\ndef w(e): ...\n")
    result = cli(url, "run", str(script), "--host", "0.0.0.0")
    assert result.exit_code == 2 and "refusing to serve on 0.0.0.0" in result.stderr


def test_every_option_shows_its_environment_variable() -> None:
    commands = main.commands  # type: ignore[attr-defined]
    assert set(commands) >= {
        "run",
        "emit",
        "status",
        "pause",
        "resume",
        "block",
        "unblock",
        "traces",
        "messages",
        "cancel",
        "purge",
        "dead",
        "retry",
        "discard",
        "unknown",
        "web",
        "demo",
    }
    for name, command in commands.items():
        help_text = CliRunner().invoke(main, [name, "--help"]).stdout
        for param in command.params:
            if isinstance(param, click.Option) and "--help" not in param.opts:
                assert param.envvar and param.show_envvar, (name, param.opts)
                assert f"env var: {param.envvar}" in " ".join(help_text.split()), (name, param.opts)


def test_read_commands_take_json() -> None:
    for name in ("status", "traces", "messages", "dead", "unknown"):
        options = [p for p in main.commands[name].params if isinstance(p, click.Option)]  # type: ignore[attr-defined]
        assert any("--json" in p.opts for p in options), name


def test_python_emit_to_unknown_warns_but_the_cli_does_not(url: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = cli(url, "emit", "nobody", "{}")
    assert result.exit_code == 0 and result.stderr == ""


def test_printed_store_urls_hide_the_password() -> None:
    from conveyor._cli._common import safe_url as _safe_url

    assert _safe_url("postgresql://ada:s3cret@db:5432/q") == "postgresql://ada:***@db:5432/q"
    assert _safe_url("sqlite:///x.db") == "sqlite:///x.db"


def test_the_demo_app_is_defined_once() -> None:
    """``conveyor demo`` and examples/demo_app.py run the same App: one definition of its workers."""
    from conveyor._demo import app as demo
    from conveyor._loader import load_app

    root = Path(__file__).resolve().parents[2]
    example = load_app(str(root / "examples" / "demo_app.py"))
    assert example is demo
    assert sorted(example.registry.names()) == ["email", "orders", "thumbnail"]


def test_the_demo_app_fans_out(tmp_path: Path) -> None:
    from conveyor._loader import load_app

    root = Path(__file__).resolve().parents[2]
    demo = load_app(str(root / "examples" / "demo_app.py"))
    demo.use_store(f"sqlite:///{tmp_path / 'demo.db'}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            order = demo.emit({"order": 1, "customer": "ada@example.com", "items": ["lamp", "mug"]}, "orders")
        demo.drain(timeout=30)
        trace = next(t for t in demo.traces("orders") if t.message_id == order)
        assert trace.outcome == "ok" and len(trace.emitted) == 3
        assert trace.logs == ["INFO shop: order 1 for ada@example.com: 2 item(s)"]
        assert {t.message_id for t in demo.traces("thumbnail")} >= set(trace.emitted[1:])
        assert demo.traces("email")  # ran (it may have failed: it fails on purpose, sometimes)
    finally:
        demo.close()
