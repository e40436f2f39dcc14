"""One request-body reader for every front door: the API, the admin API and the dashboard.

The same class of hostile bodies is sent, with Content-Length and chunked, to one
write of each door on a real server (so the framing is the client's, not a test
transport's): over the size limit (413, counted on the bytes as they arrive),
nested too deeply, NaN / Infinity / a number that overflows, a repeated name,
a lone surrogate (400, "malformed JSON"). Each door's body is first shown to be
accepted with a plain value in the same place, so a refusal is the reader's. Nothing
refused changes the state.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from conftest import Served, start_server, stop_server

LIMIT = 1000
JSON_TYPE = "application/json"


@dataclass(frozen=True)
class Door:
    method: str
    path: str
    headers: dict[str, str]
    wrap: Callable[[str], bytes]  # a body valid for this door, with the given JSON text in one value
    accepted: int


DOORS = {
    "api": Door(
        "POST",
        "/connectors",
        {"Authorization": "Bearer body", "Content-Type": JSON_TYPE},
        lambda v: f'{{"type": "github", "name": {v}, "config": {{"apiUrl": "https://api.github.com"}}}}'.encode(),
        201,
    ),
    "admin": Door(
        "PUT",
        "/__specmock/scenario",
        {"Content-Type": JSON_TYPE},
        lambda v: f'{{"name": "body-reader", "description": {v}}}'.encode(),
        200,
    ),
    "dashboard": Door(
        "POST",
        "/__specmock/collections/appsecplus/applications/items",
        {"Content-Type": JSON_TYPE},
        lambda v: f'{{"name": {v}}}'.encode(),
        201,
    ),
}

#: The class of bodies the reader refuses: (JSON text put in the door's value, status).
HOSTILE = {
    "over the limit": ('"' + "x" * (5 * LIMIT) + '"', 413),
    "NaN": ("NaN", 400),
    "Infinity": ("Infinity", 400),
    "-Infinity": ("-Infinity", 400),
    "overflowing number": ("1e999", 400),
    "repeated name": ('{"a": 1, "a": 2}', 400),
    "repeated name at the top": ('"x", "name": "y"', 400),
    "lone surrogate": ('"\\ud800"', 400),
    "lone surrogate in a name": ('{"\\udc00": 1}', 400),
    "nested 100 deep": ("[" * 100 + "]" * 100, 400),
    "nested 400 deep": ("[" * 400 + "]" * 400, 400),
}


@dataclass
class Reply:
    status: int
    body: bytes


def send(served: Served, door: Door, body: bytes, chunked: bool) -> Reply:
    url = urlsplit(served.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=15)
    try:
        connection.putrequest(door.method, door.path, skip_accept_encoding=True)
        framing = {"Transfer-Encoding": "chunked"} if chunked else {"Content-Length": str(len(body))}
        headers = {**door.headers, **framing}
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        if chunked:
            for i in range(0, len(body), 100):
                piece = body[i : i + 100]
                connection.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            connection.send(b"0\r\n\r\n")
        else:
            connection.send(body)
        response = connection.getresponse()
        return Reply(response.status, response.read())
    finally:
        connection.close()


def state(served: Served) -> bytes:
    url = urlsplit(served.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=15)
    try:
        connection.request("GET", "/__specmock/state")
        response = connection.getresponse()
        assert response.status == 200
        return response.read()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def server() -> Iterator[Served]:
    served = start_server("--max-body", str(LIMIT), "--admin-max-body", str(LIMIT))
    try:
        yield served
    finally:
        stop_server(served)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("door_name", list(DOORS))
def test_each_door_accepts_a_plain_value_in_the_hostile_place(server: Served, door_name: str, chunked: bool) -> None:
    door = DOORS[door_name]
    reply = send(server, door, door.wrap(f'"plain {chunked}"'), chunked)
    assert reply.status == door.accepted, reply.body


@pytest.mark.parametrize("case", list(HOSTILE))
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("door_name", list(DOORS))
def test_every_door_refuses_the_same_hostile_bodies(server: Served, door_name: str, chunked: bool, case: str) -> None:
    door = DOORS[door_name]
    text, status = HOSTILE[case]
    before = state(server)
    reply = send(server, door, door.wrap(text), chunked)
    assert reply.status == status, reply.body
    if status == 400 and door_name != "api":  # the API words it in the family's error format
        assert json.loads(reply.body)["error"].startswith("malformed JSON"), reply.body
    assert state(server) == before
    json.loads(state(server))  # the state still exports as JSON
