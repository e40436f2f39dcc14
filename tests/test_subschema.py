"""implies(sent, kept): a create skips re-checking a sent value only where the body's schema
provably implies the item's; every True here is checked against jsonschema on sample values."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from specmock._spec.subschema import implies

SAMPLES: list[Any] = [
    None, True, 0, 1, -3, 2.5, 10**6, "", "a", "ab", "x" * 300, "latest", "https://example.com",
    [], [1], [1, 1], {}, {"a": 1}, {"a": "x", "b": 2}, {"z": None}, {"a": 1, "extra": True},
]  # fmt: skip

PROVED = [
    ({"type": "string", "minLength": 1}, {"type": "string", "description": "a name"}),
    ({"type": "string", "minLength": 1, "maxLength": 200}, {"type": "string"}),
    ({"type": "boolean", "default": False}, {"type": "boolean"}),
    ({"allOf": [{"type": "object", "properties": {"a": {"type": "integer"}}}], "minProperties": 1},
     {"type": "object", "properties": {"a": {"type": "integer"}}, "description": "kept"}),
    ({"type": "object", "required": ["a"], "properties": {"a": {}}, "additionalProperties": False},
     {"type": "object", "properties": {"a": {}}, "additionalProperties": False}),
    ({"enum": ["a", "ab"]}, {}),
]  # fmt: skip

NOT_PROVED = [
    # a keyword the item holds that the body leaves out
    ({"type": "string"}, {"type": "string", "minLength": 1}),
    # the same additionalProperties, widened by properties the item does not name
    ({"type": "object", "properties": {"extra": {}}, "additionalProperties": False},
     {"type": "object", "additionalProperties": False}),
    ({"type": "object", "patternProperties": {"^z": {}}, "additionalProperties": False},
     {"type": "object", "additionalProperties": False}),
    # OpenAPI 3.0's nullable widens the type it sits beside
    ({"type": "string", "nullable": True}, {"type": "string"}),
    # a different value of a kept keyword
    ({"type": "string", "maxLength": 300}, {"type": "string", "maxLength": 200}),
    # an alternative is not a member: a value may pass the other branch
    ({"anyOf": [{"type": "string"}, {"type": "integer"}]}, {"type": "string"}),
    ({"type": "object", "properties": {"id": {"type": "string"}}},
     {"type": "object", "required": ["id", "name"], "properties": {"id": {"type": "string"}}}),
]  # fmt: skip


@pytest.mark.parametrize(("sent", "kept"), PROVED)
def test_what_is_proved_holds_for_every_sample(sent: dict[str, Any], kept: dict[str, Any]) -> None:
    assert implies(sent, kept)
    for value in SAMPLES:
        if jsonschema.Draft202012Validator(sent).is_valid(value):
            assert jsonschema.Draft202012Validator(kept).is_valid(value), value


@pytest.mark.parametrize(("sent", "kept"), NOT_PROVED)
def test_what_may_widen_is_not_proved(sent: dict[str, Any], kept: dict[str, Any]) -> None:
    assert not implies(sent, kept)
