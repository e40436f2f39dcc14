"""What the hostile-input tests share: the three API families as a bad request meets them, a request
sent byte for byte (the path not normalised, the body not re-encoded), the store as the admin API
shows it, and the check that a refusal is a clear 4xx in the family's own error format.

The fixtures (`server`, `small` with --max-body 256, `targets`) are registered under those names;
a test module imports them under their function names.
"""

from __future__ import annotations

import http.client
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from conftest import ALM_PARAMS, ORG, Served, start_server, stop_server

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


@pytest.fixture(scope="module", name="server")
def default_server() -> Iterator[Served]:
    served = start_server("--seed", "3")
    try:
        yield served
    finally:
        stop_server(served)


@pytest.fixture(scope="module", name="small")
def small_body_server() -> Iterator[Served]:
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


@pytest.fixture(name="targets")
def fresh_targets(server: Served) -> dict[str, str]:
    """A fresh item per family for the bad requests to aim at (so one test's damage cannot hide another's)."""
    assert send(server, "POST", "/__specmock/reset", {"Content-Type": JSON_TYPE}, b"{}").status == 200
    return {name: create(server, family) for name, family in FAMILIES.items()}


def auth(family: Family, content_type: str | None = JSON_TYPE) -> dict[str, str]:
    headers = {"Authorization": family.auth}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return headers
