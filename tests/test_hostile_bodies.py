"""Hostile bodies against a real `specmock serve`: malformed JSON, deeply nested JSON, huge numbers,
invalid UTF-8, duplicate keys, lone surrogates, wrong content types, non-ASCII headers, and bodies
above --max-body (declared or chunked); each is a clear 4xx in the family's own error format,
never a 500, and never changes state.

Requests go out byte for byte (http.client, or a raw socket) so no client normalises the path
or the body first.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostile_support import (
    FAMILIES,
    FAMILY_IDS,
    JSON_TYPE,
    SMALL_BODY,
    VERSORI,
    Family,
    Reply,
    assert_family_error,
    auth,
    send,
    state,
)

# The fixtures, by the names the tests ask for: `server`, `small` (--max-body 256), `targets`.
from hostile_support import default_server as default_server
from hostile_support import fresh_targets as fresh_targets
from hostile_support import small_body_server as small_body_server
from specmock import MockApp

# -- bodies ---------------------------------------------------------------------------

DEEP_ARRAYS = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECTS = b'{"a":' * 50_000 + b"1" + b"}" * 50_000
BAD_BODIES = {
    "nested 33 deep": b'{"name":' + b"[" * 33 + b"]" * 33 + b"}",
    "nested 100k deep (arrays)": DEEP_ARRAYS,
    "nested 50k deep (objects)": DEEP_OBJECTS,
    "5000-digit integer": b'{"name":' + b"9" * 5000 + b"}",
    "float overflow": b'{"name":1e999}',
    "negative float overflow": b'{"name":-1e400}',
    "NaN": b'{"name":NaN}',
    "Infinity": b'{"name":Infinity}',
    "invalid UTF-8": b'{"name":"\xff\xfe"}',
    "UTF-8 surrogate": b'{"name":"\xed\xa0\x80"}',
    "overlong UTF-8": b'{"name":"\xc0\xaf"}',
    "Latin-1 text": '{"name":"Café"}'.encode("latin-1"),
    "duplicate keys": b'{"name":"a","name":"b"}',
    "duplicate nested keys": b'{"config":{"apiUrl":"https://a.com","apiUrl":"https://b.com"}}',
    "truncated": b'{"name":',
    "trailing garbage": b'{"name":"a"} {"x":1}',
    "not JSON": b"hello",
    "NUL bytes": b"\x00\x00\x00",
    "single quotes": b"{'name':'a'}",
}


@pytest.mark.parametrize("target", ["create", "update"])
@pytest.mark.parametrize("case", list(BAD_BODIES))
@pytest.mark.parametrize("family_name", FAMILY_IDS)
def test_malformed_bodies_are_400_in_the_family_format(server, targets, family_name, case, target):
    family = FAMILIES[family_name]
    path = family.collection if target == "create" else family.item.format(id=targets[family_name])
    method = "POST" if target == "create" else "PUT"
    before = state(server)
    reply = send(server, method, path, auth(family), BAD_BODIES[case])
    assert_family_error(family, reply, 400)
    if family.name == "sdelements":
        assert reply.json()["detail"].startswith("JSON parse error"), reply.body
    assert state(server) == before


WRONG_TYPES = [
    "text/plain",
    "text/html; charset=utf-8",
    "application/xml",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/octet-stream",
    "application/jsonp",
    "application/json-patch",
]


@pytest.mark.parametrize("content_type", WRONG_TYPES)
@pytest.mark.parametrize("family_name", FAMILY_IDS)
def test_a_valid_body_under_a_wrong_content_type_is_415(server, targets, family_name, content_type):
    family = FAMILIES[family_name]
    before = state(server)
    for method, path, body in [
        ("POST", family.collection, {**family.create, "name": "Sent As Something Else"}),
        ("PUT", family.item.format(id=targets[family_name]), family.update),
    ]:
        reply = send(server, method, path, auth(family, content_type), json.dumps(body).encode())
        assert_family_error(family, reply, 415)
    assert state(server) == before


# -- Unicode: lone surrogates and non-ASCII headers ---------------------------------------------

#: JSON texts that decode to a string UTF-8 cannot hold, in every position a body can put one.
SURROGATE_BODIES = {
    "high surrogate in a value": b'{"name":"p\\ud800"}',
    "low surrogate in a value": b'{"name":"\\udfffx"}',
    "pair in the wrong order": b'{"name":"\\ude00\\ud83d"}',
    "high surrogate then text": b'{"name":"\\ud83dx"}',
    "surrogate in a key": b'{"name":"ok","config":{"a\\ud800b":1}}',
    "surrogate in a nested value": b'{"name":"ok","config":{"apiUrl":"https://x.com/\\udc80"}}',
    "surrogate in an array": b'{"name":"ok","tags":["\\ud800"]}',
    "upper-case escape": b'{"name":"\\uDBFF"}',
}


def with_body(family: Family, raw: bytes) -> bytes:
    """`raw`'s members laid over the family's valid create body (so only the surrogate is wrong)."""
    extra = raw[1:-1]
    base = json.dumps({k: v for k, v in family.create.items() if k.encode() not in extra}).encode()
    return base[:-1] + (b"," if len(base) > 2 else b"") + extra + b"}"


@pytest.mark.parametrize("target", ["create", "update"])
@pytest.mark.parametrize("case", list(SURROGATE_BODIES))
@pytest.mark.parametrize("family_name", FAMILY_IDS)
def test_a_lone_surrogate_anywhere_in_a_body_is_400_and_stores_nothing(server, targets, family_name, case, target):
    family = FAMILIES[family_name]
    path = family.collection if target == "create" else family.item.format(id=targets[family_name])
    before = state(server)
    method = "POST" if target == "create" else "PUT"
    reply = send(server, method, path, auth(family), with_body(family, SURROGATE_BODIES[case]))
    assert_family_error(family, reply, 400)
    assert b"surrogate" in reply.body or (family.name == "sdelements" and reply.status == 400)
    assert state(server) == before
    for listing in ("/__specmock/state", "/__specmock/journal"):
        assert send(server, "GET", listing).status == 200


@pytest.mark.parametrize("family_name", FAMILY_IDS)
def test_a_valid_surrogate_pair_is_an_ordinary_character(server, targets, family_name):
    family = FAMILIES[family_name]
    body = json.dumps({**family.create, "name": "Smile \U0001f600"}, ensure_ascii=True).encode()
    assert b"\\ud83d\\ude00" in body
    reply = send(server, "POST", family.collection, auth(family), body)
    assert reply.status == 201, reply.body
    assert reply.json()["name"] == "Smile \U0001f600"


#: Any string a JSON text can carry, lone surrogates included (hypothesis leaves them out by default).
ANY_TEXT = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=()), max_size=12)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def in_process_api() -> Iterator[Any]:
    import httpx

    from specmock._testing.transport import SyncASGITransport

    with httpx.Client(transport=SyncASGITransport(MockApp(seed=3)), base_url="http://mock") as client:
        yield client


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(family_name=st.sampled_from(FAMILY_IDS), extra=st.dictionaries(ANY_TEXT, JSON_VALUES, max_size=3), name=ANY_TEXT)
def test_no_json_body_can_break_a_later_list_export_or_journal(in_process_api, family_name, extra, name):
    """Whatever strings a body carries (as JSON escapes), the answer is never a 500, and nothing
    stored can make a later list, state export or journal fail to encode."""
    client = in_process_api
    family = FAMILIES[family_name]
    body = json.dumps({**family.create, **extra, "name": name}, ensure_ascii=True).encode()
    headers = auth(family)
    created = client.post(family.collection, content=body, headers=headers)
    assert created.status_code < 500, created.text
    list_path = family.collection if family.name != "versori" else f"{VERSORI}/connectors"
    assert client.get(list_path, headers=headers).status_code == 200
    assert client.get("/__specmock/state").status_code == 200
    assert client.get("/__specmock/journal").status_code == 200


NON_ASCII_HEADERS = {
    "Authorization latin-1": {"Authorization": b"Bearer caf\xe9"},
    "Authorization UTF-8": {"Authorization": "Bearer café".encode()},
    "Authorization token scheme": {"Authorization": b"Token \xff\xfe"},
    "Basic with invalid base64 bytes": {"Authorization": b"Basic \xff"},
    "Basic of latin-1": {"Authorization": b"Basic " + __import__("base64").b64encode(b"us\xe9r:p\xe4ss")},
    "scenario header": {"X-Specmock-Scenario": "défaut".encode()},
    "Prefer": {"Prefer": b"code=4\xb2"},
    "Content-Type": {"Content-Type": "application/json; charset=\u00fctf-8".encode()},
    "an unknown header": {"X-Whatever": b"\xe2\x98\x83\xff"},
}


@pytest.mark.parametrize("case", list(NON_ASCII_HEADERS))
@pytest.mark.parametrize("family_name", FAMILY_IDS)
def test_non_ascii_headers_are_answered_never_a_500(server, targets, family_name, case):
    family = FAMILIES[family_name]
    headers: dict[str, Any] = {**auth(family), **NON_ASCII_HEADERS[case]}
    before = state(server)
    for method, path, body in [
        ("GET", family.item.format(id=targets[family_name]), None),
        ("POST", family.collection, json.dumps({**family.create, "name": f"Header {case}"}).encode()),
    ]:
        reply = send(server, method, path, headers, body)
        assert reply.status < 500, (method, reply.status, reply.body[:300])
        if reply.status >= 400:
            assert_family_error(family, reply, reply.status)
        elif method == "POST":
            before = state(server)  # an accepted create is a real change
    assert state(server) == before


# -- size ---------------------------------------------------------------------------------


def oversized(family: Family) -> bytes:
    body = json.dumps({**family.create, "name": "x" * (4 * SMALL_BODY)}).encode()
    assert len(body) > SMALL_BODY
    return body


def pieces(data: bytes, size: int = 64) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("family_name", FAMILY_IDS)
def test_a_body_over_max_body_is_413_before_it_is_parsed(small, family_name):
    family = FAMILIES[family_name]
    before = state(small)
    bodies = {
        "valid JSON": (oversized(family), JSON_TYPE),
        "malformed JSON": (b'{"name": "' + b"x" * (4 * SMALL_BODY), JSON_TYPE),  # 413, not 400: never parsed
        "invalid UTF-8": (b'{"name": "' + b"\xff" * (4 * SMALL_BODY) + b'"}', JSON_TYPE),
        "deep nesting": (b"[" * (4 * SMALL_BODY), JSON_TYPE),
        "wrong content type": (b"x" * (4 * SMALL_BODY), "text/plain"),  # the size is checked first
    }
    for name, (body, content_type) in bodies.items():
        declared = send(small, "POST", family.collection, auth(family, content_type), body)
        assert declared.status == 413, (name, declared.body)
        assert_family_error(family, declared, 413)
        chunked = send(small, "POST", family.collection, auth(family, content_type), chunks=pieces(body))
        assert chunked.status == 413, (name, chunked.body)
        assert_family_error(family, chunked, 413)
    assert state(small) == before


@pytest.mark.parametrize("family_name", FAMILY_IDS)
def test_a_huge_declared_length_is_refused_without_reading_the_body(small, family_name):
    """Content-Length: 1 TB and no body at all: the 413 comes at once, not after a read."""
    family = FAMILIES[family_name]
    before = state(small)
    url = urlsplit(small.url)
    request = (
        f"POST {family.collection} HTTP/1.1\r\nHost: {url.netloc}\r\nAuthorization: {family.auth}\r\n"
        f"Content-Type: {JSON_TYPE}\r\nContent-Length: {10**12}\r\n\r\n"
    ).encode()
    started = time.monotonic()
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            assert chunk, received
            received += chunk
        head, _, payload = received.partition(b"\r\n\r\n")
        headers = dict(line.decode().lower().split(": ", 1) for line in head.split(b"\r\n")[1:])
        while len(payload) < int(headers["content-length"]):
            chunk = sock.recv(65536)
            assert chunk, payload
            payload += chunk
    assert time.monotonic() - started < 5
    status = int(head.split()[1])
    assert_family_error(family, Reply(status, headers, payload), 413)
    assert state(small) == before


@pytest.mark.parametrize("family_name", FAMILY_IDS)
def test_a_body_at_the_limit_is_still_accepted(small, family_name):
    family = FAMILIES[family_name]
    body = json.dumps({**family.create, "name": "Small Enough"}).encode()
    assert len(body) <= SMALL_BODY
    assert send(small, "POST", family.collection, auth(family), body).status == 201
    chunked = json.dumps({**family.create, "name": "Small Enough Too"}).encode()
    assert send(small, "POST", family.collection, auth(family), chunks=pieces(chunked, 16)).status == 201
