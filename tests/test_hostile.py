"""Hostile input against a real `specmock serve`: every bad request is a clear 4xx in the
family's own error format, never a 500, and never changes state.

Bodies above --max-body (declared or chunked), deeply nested JSON, huge numbers,
invalid UTF-8, duplicate keys, wrong content types, unknown methods, path
traversal and encoded slashes or control characters in ids, for each of the
three API families. Requests go out byte for byte (http.client, or a raw
socket) so no client normalises the path or the body first. Spec and scenario
YAML is loaded safely: Python tags and alias bombs are refused.
"""

from __future__ import annotations

import http.client
import itertools
import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ALM_PARAMS, ORG, Served, start_server, stop_server
from specmock import LoadError, MockApp, load_specs
from specmock._spec.bundled import bundled_dir

SMALL_BODY = 256
JSON_TYPE = "application/json"


@dataclass(frozen=True)
class Family:
    name: str
    auth: str
    collection: str  # where creates go
    item: str  # one item, `{id}` standing for its id
    create: dict[str, Any]
    update: dict[str, Any]
    collection_allow: frozenset[str]
    item_allow: frozenset[str]
    codes: dict[int, str]  # the error code each status carries (empty: DRF bodies have none)


VERSORI = f"/api/connect/v1/o/{ORG}"
FAMILIES = {
    "appsecplus": Family(
        name="appsecplus",
        auth="Bearer hostile",
        collection="/connectors",
        item="/connectors/{id}",
        create={"type": "github", "name": "Hostile Target", "config": {"apiUrl": "https://api.github.com"}},
        update={"name": "Renamed"},
        collection_allow=frozenset({"GET", "HEAD", "POST"}),
        item_allow=frozenset({"GET", "HEAD", "PUT", "DELETE"}),
        codes={
            400: "ValidationException",
            401: "UnauthorizedException",
            404: "ResourceNotFoundException",
            405: "MethodNotAllowedException",
            413: "PayloadTooLargeException",
            415: "UnsupportedMediaTypeException",
        },
    ),
    "versori": Family(
        name="versori",
        auth="Bearer hostile",
        collection=f"{VERSORI}/protocols/http/connectors",
        item=f"{VERSORI}/connectors/{{id}}",
        create={"name": "Hostile Target", "baseUrl": "https://example.com", "authSchemeConfigs": []},
        update={"name": "Renamed", "baseUrl": "https://example.com", "protocol": "http"},
        collection_allow=frozenset({"POST"}),
        item_allow=frozenset({"GET", "HEAD", "PUT", "DELETE"}),
        codes={
            400: "bad_request",
            401: "unauthorized",
            404: "not_found",
            405: "method_not_allowed",
            413: "payload_too_large",
            415: "unsupported_media_type",
        },
    ),
    "sdelements": Family(
        name="sdelements",
        auth="Token hostile",
        collection="/api/v2/connectors/alm/",
        item="/api/v2/connectors/alm/{id}/",
        create={"name": "Hostile Target", "system": {"id": "github"}, "params": ALM_PARAMS["github"]},
        update={"name": "Renamed", "system": {"id": "github"}, "params": ALM_PARAMS["github"]},
        collection_allow=frozenset({"GET", "HEAD", "POST"}),
        item_allow=frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE"}),
        codes={},
    ),
}
FAMILY_IDS = list(FAMILIES)


# -- plumbing -------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def send(
    served: Served,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    chunks: list[bytes] | None = None,
) -> Reply:
    """One request exactly as given: the path is not normalised, the body not re-encoded."""
    url = urlsplit(served.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=15)
    try:
        connection.putrequest(method, path, skip_host=False, skip_accept_encoding=True)
        sent = dict(headers or {})
        if chunks is not None:
            sent["Transfer-Encoding"] = "chunked"
        elif body is not None:
            sent["Content-Length"] = str(len(body))
        for name, value in sent.items():
            connection.putheader(name, value)
        connection.endheaders()
        if chunks is not None:
            for chunk in chunks:
                connection.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            connection.send(b"0\r\n\r\n")
        elif body is not None:
            connection.send(body)
        response = connection.getresponse()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


def state(served: Served) -> Any:
    reply = send(served, "GET", "/__specmock/state")
    assert reply.status == 200
    return reply.json()["store"]


def assert_family_error(family: Family, reply: Reply, status: int | set[int]) -> None:
    """A clear 4xx of `status`, as `family` words its errors."""
    wanted = {status} if isinstance(status, int) else status
    assert reply.status in wanted, (reply.status, reply.body[:300])
    assert reply.headers.get("content-type", "").startswith(JSON_TYPE), reply.headers
    body = reply.json()
    if family.name == "appsecplus":
        assert set(body) == {"error"}, body
        assert body["error"]["code"] == family.codes[reply.status], body
        assert isinstance(body["error"]["message"], str) and body["error"]["message"], body
    elif family.name == "versori":
        assert body["code"] == family.codes[reply.status], body
        assert isinstance(body["message"], str) and body["message"], body
    else:  # Django REST Framework: {"detail": "..."}, or {"field": ["message", ...]}
        assert isinstance(body, dict) and body, body
        if "detail" in body:
            assert set(body) == {"detail"} and isinstance(body["detail"], str) and body["detail"], body
        else:
            assert reply.status == 400, body
            for messages in body.values():
                assert isinstance(messages, (list, dict)) and messages, body


@pytest.fixture(scope="module")
def server() -> Iterator[Served]:
    served = start_server("--seed", "3")
    try:
        yield served
    finally:
        stop_server(served)


@pytest.fixture(scope="module")
def small() -> Iterator[Served]:
    served = start_server("--seed", "3", "--max-body", str(SMALL_BODY))
    try:
        yield served
    finally:
        stop_server(served)


_names = itertools.count(1)


def create(served: Served, family: Family) -> str:
    headers = {"Authorization": family.auth, "Content-Type": JSON_TYPE}
    body = {**family.create, "name": f"Hostile Target {next(_names)}"}
    reply = send(served, "POST", family.collection, headers, json.dumps(body).encode())
    assert reply.status == 201, reply.body
    return str(reply.json()["id"])


@pytest.fixture
def targets(server: Served) -> dict[str, str]:
    """A fresh item per family for the bad requests to aim at (so one test's damage cannot hide another's)."""
    assert send(server, "POST", "/__specmock/reset", {"Content-Type": JSON_TYPE}, b"{}").status == 200
    return {name: create(server, family) for name, family in FAMILIES.items()}


def auth(family: Family, content_type: str | None = JSON_TYPE) -> dict[str, str]:
    headers = {"Authorization": family.auth}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return headers


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


# -- methods ------------------------------------------------------------------------------

ODD_METHODS = ["PATCH", "DELETE", "POST", "PUT", "BREW", "PROPFIND", "TRACE"]


@pytest.mark.parametrize("method", ODD_METHODS)
@pytest.mark.parametrize("family_name", FAMILY_IDS)
def test_an_unknown_method_is_405_with_allow(server, targets, family_name, method):
    family = FAMILIES[family_name]
    before = state(server)
    for path, allowed in [
        (family.collection, family.collection_allow),
        (family.item.format(id=targets[family_name]), family.item_allow),
    ]:
        if method in allowed:
            continue
        reply = send(server, method, path, auth(family), json.dumps(family.create).encode())
        assert_family_error(family, reply, 405)
        assert {m.strip() for m in reply.headers["allow"].split(",")} == allowed, (path, reply.headers)
    assert state(server) == before


# -- paths --------------------------------------------------------------------------------


def unicode_digits(real_id: str) -> str:
    """The id with its digits written as Arabic-Indic digits (which Python's int() accepts)."""
    return quote(real_id.translate({ord(d): 0x0660 + int(d) for d in "0123456789"}))


#: How an id is mangled; `{id}` is a real item's id. Each must miss: 404 (or 400 where ids have a pattern).
#: An id must name one item, spelled one way: " 3", "3\n", "+3", "0_3" or "٣" are not item 3.
MANGLED_IDS: dict[str, Any] = {
    "encoded slash after": "{id}%2Fx",
    "encoded slash before": "x%2F{id}",
    "lowercase encoded slash": "{id}%2fx",
    "encoded trailing slash": "{id}%2F",
    "encoded backslash": "{id}%5Cx",
    "encoded dot-dot": "%2E%2E%2F{id}",
    "dot-dot in the id": "..%2F{id}",
    "traversal to admin": "..%2F..%2F__specmock%2Fstate",
    "traversal to a file": "..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "double-encoded slash": "{id}%252Fx",
    "NUL": "{id}%00",
    "newline": "{id}%0A",
    "newline inside": "a%0Ab",
    "carriage return": "{id}%0D",
    "CRLF": "{id}%0D%0A",
    "tab": "{id}%09",
    "invalid UTF-8": "{id}%FF%FE",
    "overlong UTF-8 slash": "{id}%C0%AF",
    "leading space": "%20{id}",
    "trailing space": "{id}%20",
    "plus sign": "%2B{id}",
    "digit separator": "0_{id}",
    "Unicode digits": unicode_digits,
    "very long": "x" * 4000,
}


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("mangled", list(MANGLED_IDS))
@pytest.mark.parametrize("family_name", FAMILY_IDS)
def test_mangled_ids_miss_in_the_family_format(server, targets, family_name, mangled, method):
    family = FAMILIES[family_name]
    mangle = MANGLED_IDS[mangled]
    raw_id = mangle(targets[family_name]) if callable(mangle) else mangle.format(id=targets[family_name])
    path = family.item.format(id=raw_id)
    before = state(server)
    body = json.dumps(family.update).encode() if method == "PUT" else None
    reply = send(server, method, path, auth(family), body)
    assert_family_error(family, reply, {400, 404})
    assert state(server) == before


LITERAL_TRAVERSALS = [
    "{item}/../../__specmock/state",
    "{item}/../{id2}",
    "{collection}/./{id}",
    "{collection}//{id}",
    "{collection}/%2E/{id}",
    "{collection}/../../../../etc/passwd",
]


@pytest.mark.parametrize("template", LITERAL_TRAVERSALS)
@pytest.mark.parametrize("family_name", FAMILY_IDS)
def test_dot_segments_are_not_resolved_into_other_routes(server, targets, family_name, template):
    family = FAMILIES[family_name]
    item = family.item.format(id=targets[family_name]).rstrip("/")
    collection = family.item.split("{id}")[0].rstrip("/")
    path = template.format(item=item, id2="1", collection=collection, id=targets[family_name])
    before = state(server)
    for method in ("GET", "DELETE"):
        reply = send(server, method, path, auth(family))
        assert_family_error(family, reply, {400, 404})
        assert b'"store"' not in reply.body  # the admin API was not reached
    assert state(server) == before


# -- YAML ---------------------------------------------------------------------------------

PYTHON_TAGS = {
    "scalar tag": "!!python/name:os.system ''",
    "mapping tag": "!!python/object:argparse.Namespace {{apiUrl: 'https://x.com'}}",
    "sequence tag": "!!python/object/apply:os.system ['touch {marker}']",
    "new-object tag": "!!python/object/new:os.system ['touch {marker}']",
    "local tag": "!custom {{apiUrl: 'https://x.com'}}",
}


def billion_laughs(top: str) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    names = "abcdefghij"
    for previous, name in itertools.pairwise(names):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    return top + "".join(f"x-{line}\n" if top.startswith("openapi") else f"  {line}\n" for line in lines)


@pytest.mark.parametrize("tag", list(PYTHON_TAGS))
def test_a_spec_with_a_python_tag_is_refused(tmp_path: Path, tag: str):
    marker = tmp_path / "pwned"
    spec = (bundled_dir("specs") / "appsecplus.yaml").read_text(encoding="utf-8")
    value = PYTHON_TAGS[tag].format(marker=marker)
    evil = spec.replace("info:\n", f"info:\n  x-evil: {value}\n", 1)
    assert evil != spec
    path = tmp_path / "evil.yaml"
    path.write_text(evil, encoding="utf-8")
    with pytest.raises(LoadError) as refused:
        load_specs([path])
    assert refused.value.path == str(path) and refused.value.line is not None
    assert "tag" in refused.value.reason, refused.value  # refused for its tag, not for what it built
    assert not marker.exists()


@pytest.mark.parametrize("tag", list(PYTHON_TAGS))
def test_a_scenario_with_a_python_tag_is_refused(tmp_path: Path, tag: str):
    marker = tmp_path / "pwned"
    value = PYTHON_TAGS[tag].format(marker=marker)
    path = tmp_path / "evil.yaml"
    path.write_text(
        "name: evil\nfixtures:\n  appsecplus:\n    connectors:\n"
        f"      - {{type: github, name: Evil, config: {value}}}\n",
        encoding="utf-8",
    )
    app = MockApp()
    with pytest.raises(LoadError) as refused:
        app.load_scenario(path)
    assert refused.value.line is not None
    assert "tag" in refused.value.reason, refused.value  # refused for its tag, not for what it built
    assert app.scenario is None
    assert not marker.exists()


def test_a_spec_yaml_bomb_is_refused_before_it_expands(tmp_path: Path):
    path = tmp_path / "bomb.yaml"
    path.write_text(billion_laughs("openapi: 3.1.0\n"), encoding="utf-8")
    with pytest.raises(LoadError, match="alias"):  # the alias guard, not a MemoryError after expanding
        load_specs([path])


def test_a_scenario_yaml_bomb_is_refused_before_it_expands(tmp_path: Path):
    path = tmp_path / "bomb.yaml"
    path.write_text(billion_laughs("name: bomb\ndescription: lol\nx-lol:\n"), encoding="utf-8")
    app = MockApp()
    with pytest.raises(LoadError, match="alias"):
        app.load_scenario(path)
    assert app.scenario is None
