"""The compiled body check (jsonschema-rs) and jsonschema agree, so the fast path changes no answer.

Every request body schema of the bundled specs is checked both ways on its
documented example and on a family of variants of it: each field removed, and
each field (top level and one level down) replaced by values of every JSON type,
edge strings, bad formats and numbers out of a 64-bit range. The rest of the
suite runs with SPECMOCK_CROSS_CHECK=1 (tests/conftest.py), so every body any
test or schemathesis sends is cross-checked as well.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from specmock import MockApp
from specmock._spec.fastvalidation import BodyValidator, compile_fast
from specmock._spec.validation import compile_validator

ODD_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    1.5,
    2**70,
    "",
    "x",
    "x" * 300,
    " ",
    "é",
    "٣",  # an Arabic-Indic digit: Python's \d matches it
    "abc\n",
    "2025-10-01T12:34:56Z",
    "2025-13-01T12:34:56Z",
    "2025-10-01",
    "yesterday",
    "https://api.github.com",
    "not a uri",
    "01HFS2NEAZ6ECZBZMN4FF775P7",
    "01HFS2NEAZ6ECZBZMN4FF775P7\n",
    "a@b",
    [],
    ["x"],
    [1, 1],
    {},
    {"x": 1},
]


def _bodies() -> Iterator[tuple[str, Any, Any, dict[str, Any]]]:
    """(operation, body schema, example, document) for every JSON request body of the bundled specs."""
    for family in MockApp().families:
        for path, item in family.document.get("paths", {}).items():
            for method, op in item.items():
                if not isinstance(op, dict) or "requestBody" not in op:
                    continue
                body = op["requestBody"]
                if "$ref" in body:
                    continue
                media = body.get("content", {}).get("application/json") or {}
                if "schema" in media:
                    name = f"{family.name} {method.upper()} {path}"
                    yield name, media["schema"], media.get("example"), family.document


def _variants(example: Any) -> Iterator[Any]:
    yield example
    for value in ODD_VALUES:
        yield value
    if not isinstance(example, dict):
        return
    for key, current in example.items():
        yield {k: v for k, v in example.items() if k != key}
        for value in ODD_VALUES:
            yield {**example, key: value}
        if isinstance(current, dict):
            for inner in current:
                for value in ODD_VALUES:
                    changed = copy.deepcopy(example)
                    changed[key][inner] = value
                    yield changed
    for value in ODD_VALUES:
        yield {**example, "unknownField": value}


CASES = list(_bodies())


def test_every_bundled_body_schema_compiles_to_the_fast_path() -> None:
    assert len(CASES) >= 8
    for name, schema, _, document in CASES:
        validator = compile_validator(schema, document)
        assert compile_fast(validator.schema) is not None, name


@pytest.mark.parametrize(("name", "schema", "example", "document"), CASES, ids=[c[0] for c in CASES])
def test_fast_and_jsonschema_agree_on_examples_and_their_variants(
    name: str, schema: Any, example: Any, document: dict[str, Any]
) -> None:
    slow = compile_validator(schema, document)
    fast = compile_fast(slow.schema)
    assert fast is not None
    body = BodyValidator(slow)
    checked = 0
    for variant in _variants(example if example is not None else {}):
        expected = [e.message for e in slow.iter_errors(variant)]
        try:
            fast_valid = fast(variant)
        except Exception:  # BodyValidator hands such values to jsonschema
            fast_valid = False
        assert fast_valid == (not expected), f"{name}: {variant!r}: jsonschema says {expected}"
        assert [e.message for e in body.iter_errors(variant)] == expected
        assert body.fits(variant) == (not expected), f"{name}: {variant!r}: fits disagrees with {expected}"
        checked += 1
    assert checked > 20


INTEGER_EDGES = [0, 2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**70, True]


@pytest.mark.parametrize("fmt", ["int32", "int64"])
def test_integer_formats_agree_at_their_bounds_in_bodies_and_parameters(fmt: str) -> None:
    """jsonschema-rs passes only strings to format checks: an integer format is enforced by
    handing any out-of-range integer to jsonschema, wherever it sits in the value."""
    shapes = {
        "parameters": {"type": "object", "properties": {"id": {"type": "integer", "format": fmt}}},
        "nested": {
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": {"type": "object", "properties": {"n": {"format": fmt}}}}
            },
        },
    }
    for name, schema in shapes.items():
        slow = compile_validator(schema, {})
        body = BodyValidator(slow)
        for value in INTEGER_EDGES:
            instance = {"id": value} if name == "parameters" else {"items": [{"n": 1}, {"n": value}]}
            expected = [e.message for e in slow.iter_errors(instance)]
            assert [e.message for e in body.iter_errors(instance)] == expected, (name, value)
            assert body.fits(instance) == (not expected), (name, value)
