"""What the inference tests share: small OpenAPI documents built here (`document`, `ok`, `body`,
`thing`, ...), the vendor layouts' paths, and `mock(document)`, a client of a document written to a
file whose every response is checked against that document (conftest.conformance_hook).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import conformance_hook
from specmock import MockApp
from specmock._clock import MockClock
from specmock._testing.transport import SyncASGITransport

TESTS = Path(__file__).parent
CONNECT = TESTS / "layouts" / "versori-connect-layout.yaml"
PLATFORM = TESTS / "layouts" / "versori-platform-layout.yaml"
PETSTORE3 = TESTS / "thirdparty" / "swagger-petstore-3.yaml"
ORG = "01HFS2NEAZ6ECZBZMN4FF775P7"
ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
ERROR = {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}


def ok(schema: Any, status: str = "200") -> dict[str, Any]:
    return {status: {"description": "ok", "content": {"application/json": {"schema": schema}}}}


def body(schema: Any) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def param(name: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema or {"type": "string"}}


def query(name: str, kind: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": {"type": kind}}


def document(paths: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    missing = {"description": "absent", "content": {"application/json": {"schema": ref("Error")}}}
    for item in paths.values():
        for op in item.values():
            if isinstance(op, dict) and "responses" in op:
                op["responses"].setdefault("404", missing)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Layout", "version": "1"},
        "paths": paths,
        "components": {"schemas": {"Error": ERROR, **schemas}},
    }


def serve(spec: Path, clock: MockClock | None = None) -> httpx.Client:
    app = MockApp([spec], seed=1, clock=clock)
    return httpx.Client(
        transport=SyncASGITransport(app),
        base_url="http://testserver",
        headers={"Authorization": "Bearer any-token", "api_key": "any"},
        event_hooks={"response": [conformance_hook(app)]},
    )


@pytest.fixture(name="mock")
def documents_served(tmp_path: Path) -> Iterator[Any]:
    """`mock(document)`: a client of the document written to a file."""
    clients: list[httpx.Client] = []

    def start(data: dict[str, Any], clock: MockClock | None = None) -> httpx.Client:
        spec = tmp_path / f"api{len(clients)}.json"
        spec.write_text(json.dumps(data))
        clients.append(serve(spec, clock))
        return clients[-1]

    yield start
    for c in clients:
        c.close()


def thing(**extra: Any) -> dict[str, Any]:
    props = {"id": {"type": "string", "readOnly": True}, "name": {"type": "string"}, **extra}
    return {"type": "object", "properties": props, "required": ["id", "name"]}
