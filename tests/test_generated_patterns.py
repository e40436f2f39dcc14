"""Generated strings match their schema's `pattern` (issue 21, the corpus sweep).

Where a document gives no example, the mock generates the answer from the schema. A
string with a `pattern` came out as a Faker word (`"amount"` for an amount declared
`^-?\\d{0,10}(?:\\.\\d{0,2})?$` on a payments document of the sweep's sample), failing
`response_schema_conformance`. The patterns here are written for these tests, one per
kind of construct vendor documents use.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import httpx
import pytest
import yaml

from specmock import MockApp, ResponseChecker
from specmock._spec.regex_sample import pattern_text
from specmock._testing.transport import SyncASGITransport

PATTERNS = [
    r"^-?\d{0,10}(?:\.\d{0,2})?$",  # a decimal amount
    r"^arn:aws[a-zA-Z-]*:[a-z]+:[a-z]{2}-[a-z]+-\d:\d{12}:[a-zA-Z0-9-_/:.]+$",  # an ARN
    r"^[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$",  # a lowercase UUID
    r"(MON|TUE|WED|THU|FRI|SAT|SUN):([01]\d|2[0-3]):(00|30)",  # alternation, unanchored
    r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$",  # an IBAN-like code
    r"^\S+@\S+\.\S+$",  # negated classes
    r"^[^\s]{3,5}$",  # a negated set with bounds
    r"^\w+( \w+)*$",  # words separated by spaces
]


def document(pattern: str) -> dict[str, object]:
    value = {"type": "string", "pattern": pattern}
    schema = {"type": "object", "required": ["value", "values"], "properties": {
        "value": value, "values": {"type": "array", "items": value}}}  # fmt: skip
    return {
        "openapi": "3.0.3",
        "info": {"title": "Patterns", "version": "1"},
        "paths": {"/codes/{code}/check": {"post": {
            "parameters": [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "checked", "content": {"application/json": {"schema": schema}}}},
        }}},
    }  # fmt: skip


@pytest.mark.parametrize("pattern", PATTERNS)
def test_a_generated_answer_matches_the_pattern(pattern: str, tmp_path: Path) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text(yaml.safe_dump(document(pattern)), encoding="utf-8")
    app = MockApp([path], seed=3)
    with httpx.Client(transport=SyncASGITransport(app), base_url="http://testserver") as client:
        response = client.post("/codes/a/check")
    assert response.status_code == 200
    body = response.json()
    assert re.search(pattern, body["value"]), body
    checker = ResponseChecker(app.router)
    assert checker.problems("POST", "/codes/a/check", 200, body, response.headers["content-type"]) == []


@pytest.mark.parametrize("pattern", PATTERNS)
def test_pattern_text_matches_and_repeats_with_the_seed(pattern: str) -> None:
    first = [pattern_text({"pattern": pattern}, random.Random(7)) for _ in range(2)]
    assert first[0] == first[1] is not None
    for seed in range(20):
        text = pattern_text({"pattern": pattern}, random.Random(seed))
        assert text is not None and re.search(pattern, text), (seed, text)


@pytest.mark.parametrize(
    "schema",
    [
        {"pattern": r"^[\p{L}]+$"},  # ECMA-only syntax Python cannot parse
        {"pattern": r"^(?=.*\d)\w+$"},  # a lookahead xeger cannot build
        {"pattern": r"^a{10}$", "maxLength": 5},  # no string satisfies both
        {"pattern": 5},  # not a pattern at all
    ],
    ids=["ecma-property", "lookahead", "length-bound", "not-a-string"],
)
def test_what_cannot_be_built_falls_back(schema: dict[str, object]) -> None:
    assert pattern_text(schema, random.Random(1)) is None
