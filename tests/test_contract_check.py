"""The one checker (contract.check) on each class of difference, the redaction of what is kept,
and the proxy in-process (its provider an httpx transport): fast, no sockets."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from contract_support import WIDGETS
from specmock._contract.check import AnswerChecker
from specmock._contract.drift import DriftLog
from specmock._contract.proxy import ProxyApp
from specmock._contract.redact import Redactor
from specmock._contract.upstream import Upstream
from specmock._server.app import MockApp
from specmock._testing.transport import AsyncASGITransport

WIDGET = {"id": "1", "name": "a", "color": "red", "createdAt": "2025-01-01T00:00:00Z"}
JSON = {"content-type": "application/json"}
RID = {**JSON, "x-request-id": "r"}  # with the header getWidget documents as required
HTML = {"content-type": "text/html", "x-request-id": "r"}


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Widgets, with a documented required header on getWidget's 200 and a query API key scheme."""
    document = yaml.safe_load(WIDGETS.read_text())
    document["paths"]["/widgets/{widgetId}"]["get"]["responses"]["200"]["headers"] = {
        "X-Request-Id": {"required": True, "schema": {"type": "string"}}
    }
    document["components"]["securitySchemes"]["key"] = {"type": "apiKey", "in": "query", "name": "api_key"}
    path = tmp_path_factory.mktemp("spec") / "widgets.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.fixture(scope="module")
def mock(spec: Path) -> MockApp:
    return MockApp([spec])


@pytest.mark.parametrize(
    ("method", "path", "status", "headers", "body", "kind", "pointer"),
    [
        ("GET", "/widgets/1", 200, RID, {**WIDGET, "id": 1}, "type", "/id"),
        ("GET", "/widgets/1", 200, RID, {**WIDGET, "shape": "round"}, "unknown-field", "/shape"),
        ("GET", "/widgets/1", 200, RID, {**WIDGET, "color": "blue"}, "enum", "/color"),
        ("GET", "/widgets/1", 200, RID, {"id": "1", "name": "a"} | {"color": "red"}, "missing-required", "/createdAt"),
        ("GET", "/widgets", 200, JSON, [{**WIDGET, "name": ""}], "schema", "/0/name"),
        ("GET", "/widgets/1", 200, JSON, WIDGET, "missing-header", ""),
        ("GET", "/widgets/1", 200, HTML, b"<p>hi</p>", "content-type", ""),
        ("DELETE", "/widgets/1", 204, JSON, {"deleted": True}, "unexpected-body", ""),
        ("DELETE", "/widgets/1", 200, JSON, {"deleted": True}, "undeclared-status", ""),
        ("GET", "/widgets", 200, JSON, b'{"broken": ', "invalid-body", ""),
        ("GET", "/gadgets", 200, JSON, [], "undeclared-operation", ""),
    ],
)  # fmt: skip
def test_each_class_of_difference_is_one_finding_with_its_pointer(
    mock: MockApp, method: str, path: str, status: int, headers: dict[str, str], body: Any, kind: str, pointer: str
):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    findings, _ = AnswerChecker(mock.router).check_answer(method, path, status, headers, raw)
    assert [(str(f.kind), f.pointer) for f in findings] == [(kind, pointer)]
    assert all(str(value) not in findings[0].detail for value in ("round", "blue", "<p>")), "details quote no value"


def test_a_conforming_answer_has_no_finding(mock: MockApp):
    checker = AnswerChecker(mock.router)
    headers = RID
    assert checker.check_answer("GET", "/widgets/1", 200, headers, json.dumps(WIDGET).encode())[0] == []
    assert checker.check_answer("GET", "/widgets/1", 404, JSON, b'{"message": "gone"}')[0] == []
    assert checker.check_answer("DELETE", "/widgets/1", 204, {}, b"")[0] == []


def test_kept_exchanges_lose_query_credentials_and_write_only_fields_at_any_depth(mock: MockApp):
    redactor = Redactor()
    family = mock.families[0]
    assert redactor.query(family, "api_key=s3cret&page=2") == "api_key=REDACTED&page=2"
    create = next(op for op in mock.operations if op.operation_id == "createWidget")
    listing = next(op for op in mock.operations if op.operation_id == "listWidgets")
    assert redactor.body(create, {"name": "a", "apiKey": "s3cret"}) == {"name": "a"}
    assert redactor.body(listing, [{"name": "a", "apiKey": "s3cret"}, {"name": "b"}]) == [{"name": "a"}, {"name": "b"}]


def test_the_proxy_checks_requests_too_and_journals_no_secret(spec: Path):
    provider = MockApp([spec])
    consumer_side = MockApp([spec])
    upstream = Upstream("http://provider.test", transport=AsyncASGITransport(provider))
    drift = DriftLog()
    proxy = ProxyApp(consumer_side, upstream, drift)

    async def exchange() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=AsyncASGITransport(proxy), base_url="http://proxy.test") as client:
            headers = {"Authorization": "Bearer s3cret-token"}
            secret = {"name": "a", "color": "red", "apiKey": "s3cret-wo"}
            return [
                await client.post("/widgets?api_key=s3cret-key", json=secret, headers=headers),
                await client.post("/widgets", json={"name": "b", "color": "blue"}, headers=headers),
            ]

    answers = asyncio.run(exchange())
    assert [a.status_code for a in answers] == [201, 400]  # the provider's answers, unchanged
    assert [(f.operation_id, str(f.kind), f.pointer) for f, _ in drift.items()] == [
        ("createWidget", "request", "/color")
    ]
    kept = json.dumps([e.as_dict() for e in consumer_side.journal.entries()])
    assert "s3cret" not in kept
    assert "api_key=REDACTED" in kept
