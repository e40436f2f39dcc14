"""A documented example that breaks its own schema is not served (issue 21, the corpus sweep).

An operation that fits no collection answers its documented example. Vendor documents
carry examples their schemas refute (on an Azure document of the sweep's sample, a history
entry's `modificationEvent: SmartGroupCreated` where the schema's enum lacks it); served as
is, the answer fails `response_schema_conformance` (Prism serves it too). The mock now
passes over such an example for the next documented one, else for generated data.
The documents here are written for these tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from specmock import MockApp, ResponseChecker
from specmock._testing.transport import SyncASGITransport

SCHEMA = {
    "type": "object",
    "required": ["event", "count"],
    "properties": {
        "event": {"type": "string", "enum": ["AlertCreated", "StateChange"]},
        "count": {"type": "integer", "minimum": 0},
        "note": {"type": "string", "nullable": True},
    },
}
VALID = {"event": "StateChange", "count": 2, "note": None}

#: Examples the schema refutes, one per kind of mistake.
INVALID = {
    "enum value the schema lacks": {"event": "SmartGroupCreated", "count": 1},
    "required field missing": {"event": "AlertCreated"},
    "wrong type": {"event": "AlertCreated", "count": "1"},
    "below the minimum": {"event": "AlertCreated", "count": -1},
    "not an object": ["AlertCreated"],
}


def answer(media: dict[str, Any], tmp_path: Path) -> tuple[int, Any, list[str]]:
    """GET /history of a 3.0 document whose 200 is `media`: (status, body, conformance problems)."""
    document = {
        "openapi": "3.0.3",
        "info": {"title": "History", "version": "1"},
        "paths": {
            "/alerts/{alertId}/history": {
                "get": {
                    "parameters": [{"name": "alertId", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {"200": {"description": "history", "content": {"application/json": media}}},
                }
            }
        },
    }
    path = tmp_path / "doc.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    app = MockApp([path], seed=1)
    with httpx.Client(transport=SyncASGITransport(app), base_url="http://testserver") as client:
        response = client.get("/alerts/a1/history")
    body = response.json()
    problems = ResponseChecker(app.router).problems(
        "GET", "/alerts/a1/history", response.status_code, body, response.headers["content-type"]
    )
    return response.status_code, body, problems


@pytest.mark.parametrize("mistake", INVALID)
def test_an_example_its_schema_refutes_is_not_served(mistake: str, tmp_path: Path) -> None:
    status, body, problems = answer({"schema": SCHEMA, "example": INVALID[mistake]}, tmp_path)
    assert status == 200
    assert body != INVALID[mistake]
    assert problems == []


def test_the_next_documented_example_that_holds_is_served(tmp_path: Path) -> None:
    examples = {"bad": {"value": INVALID["enum value the schema lacks"]}, "good": {"value": VALID}}
    assert answer({"schema": SCHEMA, "examples": examples}, tmp_path)[:2] == (200, VALID)


@pytest.mark.parametrize("where", ["example", "examples", "schema"])
def test_a_valid_example_is_served_as_documented(where: str, tmp_path: Path) -> None:
    media: dict[str, Any] = {"schema": SCHEMA}
    if where == "example":
        media["example"] = VALID
    elif where == "examples":
        media["examples"] = {"one": {"value": VALID}}
    else:
        media["schema"] = {**SCHEMA, "example": VALID}  # 3.0's schema-level example
    assert answer(media, tmp_path) == (200, VALID, [])
