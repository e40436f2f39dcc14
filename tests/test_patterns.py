"""Schema patterns run in RE2 (spec/patterns.py): the same answers as jsonschema's own keywords
for what both engines read alike, and linear time where Python's `re` backtracks."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from specmock._spec.patterns import VALIDATOR, check_schema, problem

SCHEMAS: list[dict[str, Any]] = [
    {"type": "string", "pattern": "^[a-c]+-[0-9]{1,3}$"},
    {"type": "string", "pattern": "b"},
    {"type": "object", "patternProperties": {"^x-": {"type": "integer"}}, "additionalProperties": False},
    {"type": "object", "patternProperties": {"^x-": {"type": "integer"}, "b$": {}}, "additionalProperties": False},
    {"type": "object", "properties": {"a": {}}, "additionalProperties": {"type": "string"}},
    {"type": "object", "properties": {"a": {}}, "additionalProperties": False},
    {"propertyNames": {"pattern": "^[a-z]+$"}},
    {
        "type": "object",
        "allOf": [{"patternProperties": {"^x-": {}}}, {"properties": {"a": {}}}],
        "unevaluatedProperties": False,
    },
    {"if": {"required": ["a"]}, "then": {"patternProperties": {"b": {}}}, "unevaluatedProperties": {"type": "integer"}},
    {"anyOf": [{"patternProperties": {"^c": {"type": "string"}}}], "unevaluatedProperties": False},
]

KEYS = st.text(alphabet="abcx-019", max_size=5)
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.text(alphabet="abc-019", max_size=6),
    lambda inner: st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=6,
)


@pytest.mark.parametrize("schema", SCHEMAS, ids=range(len(SCHEMAS)))
@settings(max_examples=150, deadline=None)
@given(instance=VALUES)
def test_re2_keywords_answer_as_jsonschema_does(schema: dict[str, Any], instance: Any) -> None:
    ours = sorted((list(e.absolute_path), e.message) for e in VALIDATOR(schema).iter_errors(instance))
    theirs = sorted((list(e.absolute_path), e.message) for e in Draft202012Validator(schema).iter_errors(instance))
    assert ours == theirs


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "pattern": "^(a+)+$"},
        {"type": "object", "patternProperties": {"^(a+)+$": {}}, "additionalProperties": False},
        {"type": "object", "patternProperties": {"^(a+)+$": {}}, "unevaluatedProperties": False},
        {"type": "object", "propertyNames": {"pattern": "^(a|aa)+$"}},
    ],
    ids=["pattern", "additionalProperties", "unevaluatedProperties", "propertyNames"],
)
def test_a_backtracking_pattern_costs_linear_time(schema: dict[str, Any]) -> None:
    hostile = "a" * 5_000 + "!"
    instance: Any = hostile if schema["type"] == "string" else {hostile: 1}
    started = time.perf_counter()
    assert list(VALIDATOR(schema).iter_errors(instance))
    assert time.perf_counter() - started < 1  # Python's re: longer than the age of the universe


def test_patterns_are_checked_by_re2_not_python() -> None:
    check_schema({"pattern": r"^\p{L}+$"})  # ECMA/RE2 syntax Python's re refuses
    assert problem(r"^\p{L}+$") is None
    assert problem("(?=a)") is not None and "linear-time" in (problem("(?=a)") or "")
    assert problem("[") is not None
