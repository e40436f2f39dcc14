"""Every answer goes out in a media type its response declares (issue 21, the corpus sweep's
`content_type_conformance` check).

Before: every body was sent as application/json, also where the document declares only
`application/hal+json` or `application/vnd.api+json`, and a response declaring only
`text/plain`, `application/xml` or `application/pdf` was a 200 with no Content-Type at all.
The documents here are written for these tests; the class is every kind of declared type.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from specmock import MockApp, ResponseChecker
from specmock._testing.transport import SyncASGITransport

NOTES = {
    "openapi": "3.0.3",
    "info": {"title": "Notes", "version": "1"},
    "components": {
        "schemas": {
            "Note": {
                "type": "object",
                "required": ["id", "text"],
                "properties": {"id": {"type": "integer", "readOnly": True}, "text": {"type": "string"}},
            }
        }
    },
    "paths": {
        "/notes": {
            "post": {
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Note"}}},
                },
                "responses": {
                    "201": {
                        "description": "created",
                        "content": {"application/hal+json": {"schema": {"$ref": "#/components/schemas/Note"}}},
                    }
                },
            },
        },
        "/notes/{id}": {
            "get": {
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {
                    "200": {
                        "description": "the note",
                        "content": {"application/hal+json": {"schema": {"$ref": "#/components/schemas/Note"}}},
                    }
                },
            }
        },
        "/status": {
            "get": {
                "responses": {
                    "200": {
                        "description": "up",
                        "content": {"text/plain": {"schema": {"type": "string"}, "example": "OK"}},
                    }
                }
            }
        },
        "/both": {
            "get": {
                "responses": {
                    "200": {
                        "description": "xml listed first, JSON too",
                        "content": {
                            "application/xml": {"schema": {"type": "object"}},
                            "application/json": {"schema": {"type": "object", "example": {"a": 1}}},
                        },
                    }
                }
            }
        },
    },
}


def client_for(document: dict[str, Any], tmp_path: Path) -> tuple[httpx.Client, ResponseChecker]:
    path = tmp_path / "doc.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    app = MockApp([path], seed=1)
    return httpx.Client(transport=SyncASGITransport(app), base_url="http://testserver"), ResponseChecker(app.router)


@pytest.fixture
def notes(tmp_path: Path) -> Iterator[tuple[httpx.Client, ResponseChecker]]:
    client, checker = client_for(NOTES, tmp_path)
    with client:
        yield client, checker


def test_a_stateful_collection_answers_in_its_declared_json_type(notes: tuple[httpx.Client, ResponseChecker]) -> None:
    client, checker = notes
    created = client.post("/notes", json={"text": "hello"})
    assert created.status_code == 201
    assert created.headers["content-type"] == "application/hal+json"
    fetched = client.get(f"/notes/{created.json()['id']}")
    assert fetched.headers["content-type"] == "application/hal+json"
    assert fetched.json() == created.json()
    problems = checker.problems("GET", fetched.url.path, 200, fetched.json(), fetched.headers["content-type"])
    assert problems == []


def test_a_text_answer_is_its_documented_example_as_text(notes: tuple[httpx.Client, ResponseChecker]) -> None:
    client, _ = notes
    answer = client.get("/status")
    assert (answer.status_code, answer.headers["content-type"], answer.text) == (200, "text/plain", "OK")


def test_json_is_preferred_where_it_is_declared_beside_others(notes: tuple[httpx.Client, ResponseChecker]) -> None:
    client, _ = notes
    answer = client.get("/both")
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {"a": 1}


#: Declared media type -> what is sent (a wildcard: the first type it admits).
KINDS = {
    "application/json": "application/json",
    "application/problem+json": "application/problem+json",
    "application/vnd.api+json": "application/vnd.api+json",
    "application/json; charset=utf-8": "application/json; charset=utf-8",
    "text/plain": "text/plain",
    "text/csv": "text/csv",
    "text/html": "text/html",
    "application/xml": "application/xml",
    "application/octet-stream": "application/octet-stream",
    "application/pdf": "application/pdf",
    "image/png": "image/png",
    "*/*": "application/json",
    "application/*": "application/json",
    "text/*": "text/plain",
    "image/*": "image/octet-stream",
}


@pytest.mark.parametrize("declared", KINDS)
def test_every_kind_of_declared_type_is_answered_in_a_type_it_declares(declared: str, tmp_path: Path) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    if not declared.startswith("application/") or ("json" not in declared and "*" not in declared):
        schema = {"type": "string"}
    response = {"description": "it", "content": {declared: {"schema": schema}}}
    document = {
        "openapi": "3.0.3",
        "info": {"title": "Kinds", "version": "1"},
        "paths": {"/thing": {"get": {"responses": {"200": response}}}},
    }
    client, checker = client_for(document, tmp_path)
    with client:
        answer = client.get("/thing")
    sent = answer.headers.get("content-type")
    assert (answer.status_code, sent) == (200, KINDS[declared])
    body = answer.json() if "json" in sent else answer.content
    assert checker.problems("GET", "/thing", 200, body, sent) == []


def test_the_checker_refuses_a_type_the_response_does_not_declare(notes: tuple[httpx.Client, ResponseChecker]) -> None:
    _, checker = notes
    [problem] = checker.problems("GET", "/notes/1", 200, {"id": 1, "text": "x"}, "application/json")
    assert "is not one the spec declares (application/hal+json)" in problem
    assert checker.problems("GET", "/notes/1", 200, {"id": "x"}, "application/hal+json") != []


# -- the media type is read without inlining the response (start-up) -------------------------

_SHAPES: dict[str, Any] = {
    "plain": {"description": "x", "content": {"text/plain": {}, "application/hal+json": {}}},
    "referenced": {"$ref": "#/components/responses/Hal"},
    "chained": {"$ref": "#/components/responses/Chain"},
    "with siblings": {"$ref": "#/components/responses/Hal", "description": "x", "content": {"text/csv": {}}},
    "cyclic": {"$ref": "#/components/responses/Loop"},
    "content by reference": {"description": "x", "content": {"$ref": "#/components/x-content"}},
    "media by reference": {"description": "x", "content": {"application/xml": {"$ref": "#/components/x-media"}}},
    "media by reference to a non-object": {
        "description": "x",
        "content": {"application/xml": {"$ref": "#/components/x-list"}, "text/plain": {}},
    },
    "none": {"description": "x"},
}
SCHEMA_A = "#/components/schemas/A"
_COMPONENTS = {
    "responses": {
        "Hal": {"description": "x", "content": {"application/hal+json": {"schema": {"$ref": SCHEMA_A}}}},
        "Chain": {"$ref": "#/components/responses/Hal"},
        "Loop": {"$ref": "#/components/responses/Loop"},
    },
    "schemas": {"A": {"type": "object", "properties": {"a": {"$ref": "#/components/schemas/A"}}}},
    "x-content": {"application/vnd.api+json": {}},
    "x-media": {"schema": {"type": "string"}},
    "x-list": [1],
}


@pytest.mark.parametrize("shape", list(_SHAPES))
def test_the_media_type_read_without_inlining_is_the_inlined_responses(shape: str) -> None:
    """`response_media_type` follows only the response's own references (not the schemas under
    it); for every way a response can be written it names what the inlined response declares."""
    from specmock._spec import examples

    document = {"components": _COMPONENTS}
    responses = {"200": _SHAPES[shape]}
    inlined = examples.sent_media_type(examples._declared_media(examples._content(document, responses, 200)))
    assert examples.response_media_type(document, responses, 200) == inlined
