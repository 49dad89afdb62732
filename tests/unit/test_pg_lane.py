"""The PostgreSQL lane's prepared statements: psycopg-style placeholders become libpq's numbered ones."""

from __future__ import annotations

from conveyor._stores._base import NewMessage
from conveyor._stores._pg_lane import Prepared
from conveyor._stores._postgres import _enqueue_params, _Queries


def test_placeholders_are_numbered_in_order_and_doubled_percents_undone() -> None:
    stmt = Prepared("conveyor_x", "SELECT %s, '100%%', %s FROM t WHERE a LIKE 'x%%' AND b = %s")
    assert stmt.name == b"conveyor_x"
    assert stmt.text == b"SELECT $1, '100%', $2 FROM t WHERE a LIKE 'x%' AND b = $3"


def test_the_enqueue_query_has_the_parameters_the_hot_path_sends() -> None:
    stmt = Prepared("conveyor_enqueue", _Queries("conveyor").enqueue)
    message = NewMessage(
        "w", b"{}", 0.5, parent_id=3, root_id=1, chain="a\nb", looped=True, priority=-7, meta='{"t":"x"}'
    )
    params = _enqueue_params(message)
    assert stmt.text.count(b"$") == len(params) == 9
    assert b"$9" in stmt.text and b"%s" not in stmt.text
    assert params == [b"w", b"{}", b"0.5", b"3", b"1", b"a\nb", b"t", b"-7", b'{"t":"x"}']
    assert _enqueue_params(NewMessage("w", b"{}"))[-2:] == [b"0", None]
