"""Bodies that orjson and the json module read differently get, at every front door, the json reader's answer.

The body reader reads with orjson and leaves to the json module's reader (the
reference: tests/test_json_codec.py) every body the two would read differently.
Here that class of bodies goes, with Content-Length and chunked, to one write
of each door (the API, the admin API, the dashboard) on a real server: a name
repeated in a way a quick count could miss (escaped, holding quotes, colons or
backslashes, beside an escaped colon, deep in arrays), a lone surrogate orjson
words otherwise, nesting between our limit and orjson's or beyond it, a BOM,
invalid UTF-8, NaN and overflowing numbers: each is refused (400, the state
unchanged) with the json reader's reason in the reply. An integer beyond 64
bits, which orjson would read as a float, is read exactly: the door's reply
(each refuses it where a string belongs) quotes all its digits.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from conftest import Served, start_server, stop_server
from specmock._server.admin import ADMIN_MAX_DEPTH
from specmock._server.body import API_MAX_DEPTH, BodyRefused, parse_with_json
from test_body_reader import DOORS, Door, send, state

LIMIT = 20_000

#: How deep each door lets a body nest.
DEPTHS = {"api": API_MAX_DEPTH, "admin": ADMIN_MAX_DEPTH, "dashboard": API_MAX_DEPTH}


def in_value(text: str) -> Callable[[Door], bytes]:
    """The door's body with `text` as its value."""
    return lambda door: door.wrap(text)


def raw_value(raw: bytes) -> Callable[[Door], bytes]:
    """The door's body with bytes no text spells as its value's string."""
    return lambda door: door.wrap('"@@"').replace(b"@@", raw)


#: Refused by the json reader; orjson reads some of them, or words the refusal otherwise.
REFUSED: dict[str, Callable[[Door], bytes]] = {
    "repeated name spelled with an escape": in_value('{"a": 1, "\\u0061": 2}'),
    "repeated name holding an escaped quote and a colon": in_value('{"a\\":b": 1, "a\\":b": 2}'),
    "repeated name holding backslashes": in_value('{"a\\\\": 1, "a\\\\": 2}'),
    "repeated name, values holding colons": in_value('{"u": "http://h:1/", "u": "x:y"}'),
    "repeated name beside an escaped colon": in_value('{"a": "\\u003a", "a": ":"}'),
    "repeated colon name, once escaped": in_value('{":": 1, "\\u003a": 2}'),
    "repeated name, the kept value an escaped colon": in_value('{"a": 1, "a": "\\u003a"}'),
    "repeated escaped colon name": in_value('{"\\u003a": 1, "\\u003a": 2}'),
    "repeated name deep in arrays": in_value('[[{"k": [1, {"k": 1, "k": 1}]}]]'),
    "repeated empty name": in_value('{"": 1, "": 2}'),
    "high surrogate then a letter": in_value('"\\ud800\\u0041"'),
    "low surrogate then high": in_value('"\\udc00\\ud800"'),
    "lone surrogate after a pair": in_value('"\\ud83d\\ude00\\ud83d"'),
    "nested 70 deep (over our limit, under orjson's)": in_value("[" * 70 + "]" * 70),
    "nested 1100 deep (over orjson's limit)": in_value("[" * 1100 + "]" * 1100),
    "nested deep with a repeated name": in_value('{"a": 1, "a": ' + "[" * 70 + "]" * 70 + "}"),
    "overflowing number spelled long": in_value("1" + "0" * 400 + ".0"),
    "NaN in a list": in_value("[1, NaN]"),
    "BOM": lambda door: b"\xef\xbb\xbf" + door.wrap('"x"'),
    "invalid UTF-8": raw_value(b"\xff"),
    "UTF-8 encoded surrogate": raw_value(b"\xed\xa0\x80"),
}

BYTES_NO_TEXT_SPELLS = {"BOM", "invalid UTF-8", "UTF-8 encoded surrogate"}

#: Read exactly by the json reader, read otherwise by orjson: (value, what the reply must quote).
READ_EXACTLY = {
    "integer beyond 64 bits": "18446744073709551616",
    "negative integer beyond 64 bits": "-9223372036854775809",
    "integer of 40 digits": "1234567890123456789012345678901234567890",
}


def strings(node: Any) -> Iterator[str]:
    """Every string in a decoded reply (where a door words a refusal differs by door)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)


@pytest.fixture(scope="module")
def server() -> Iterator[Served]:
    served = start_server("--max-body", str(LIMIT), "--admin-max-body", str(LIMIT))
    try:
        yield served
    finally:
        stop_server(served)


@pytest.mark.parametrize("case", list(REFUSED))
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("door_name", list(DOORS))
def test_every_door_refuses_them_in_the_json_readers_words(
    server: Served, door_name: str, chunked: bool, case: str
) -> None:
    if case in BYTES_NO_TEXT_SPELLS and door_name == "admin":
        pytest.skip("the scenario door takes its body as text (bad bytes replaced; a BOM makes it YAML), as before")
    door = DOORS[door_name]
    body = REFUSED[case](door)
    with pytest.raises(BodyRefused) as reference:
        parse_with_json(body, DEPTHS[door_name])
    before = state(server)
    reply = send(server, door, body, chunked)
    assert reply.status == 400, reply.body
    said = list(strings(json.loads(reply.body)))
    assert any(reference.value.reason in text for text in said), (reference.value.reason, said)
    if door_name != "api":  # the API words it in the family's error format
        assert said[0].startswith("malformed JSON"), said
    assert state(server) == before


@pytest.mark.parametrize("case", list(READ_EXACTLY))
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("door_name", list(DOORS))
def test_every_door_reads_a_long_integer_exactly(server: Served, door_name: str, chunked: bool, case: str) -> None:
    door = DOORS[door_name]
    digits = READ_EXACTLY[case]
    before = state(server)
    reply = send(server, door, door.wrap(digits), chunked)
    assert reply.status in (400, 422), reply.body  # each door wants a string there
    assert any(digits in text for text in strings(json.loads(reply.body))), reply.body
    assert state(server) == before
