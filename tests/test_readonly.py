"""readOnly in requests and responses, and writeOnly across updates: the generic rules behind
Versori's validationMessages and AppSec+'s kept token, on schemas of any shape."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from specmock._runtime.secrets import keep_write_only
from specmock._spec.readonly import compile_filler, generated_defaults, request_schema

MESSAGES = {"type": "array", "readOnly": True, "default": [], "items": {"type": "object", "required": ["text"]}}
CONFIG = {
    "type": "object",
    "required": ["id", "messages"],
    "properties": {"id": {"type": "string"}, "messages": MESSAGES},
}
CONNECTOR = {
    "type": "object",
    "properties": {
        "configs": {"type": "array", "items": {"oneOf": [{"allOf": [CONFIG]}, {"type": "string"}]}},
        "main": CONFIG,
    },
}


@pytest.mark.parametrize("sent", [[{"text": "ok"}], "text", 3, None, {"text": 1}, [1, None]])
def test_a_request_may_send_a_read_only_property_in_any_shape(sent: Any) -> None:
    validator = Draft202012Validator(request_schema(CONNECTOR))
    body = {"configs": [{"id": "a", "messages": sent}], "main": {"id": "b", "messages": sent}}
    assert list(validator.iter_errors(body)) == []
    # ... and need not send it, though responses require it; everything else is still checked.
    assert list(validator.iter_errors({"main": {"id": "b"}})) == []
    assert [e.validator for e in validator.iter_errors({"main": {"messages": sent}})] == ["required"]


def test_read_only_defaults_are_filled_at_any_depth_and_never_overwritten() -> None:
    defaults = generated_defaults(CONNECTOR)
    assert defaults == {("configs", "*", "messages"): [], ("main", "messages"): []}
    fill = compile_filler(defaults)
    assert fill is not None
    given = [{"text": "from a fixture"}]
    item = {"configs": [{"id": "a"}, {"id": "b", "messages": given}, "plain"], "main": {"id": "c"}}
    filled = fill(item)
    assert filled == {
        "configs": [{"id": "a", "messages": []}, {"id": "b", "messages": given}, "plain"],
        "main": {"id": "c", "messages": []},
    }
    assert item["main"] == {"id": "c"}  # the input is not mutated
    assert filled["configs"][0]["messages"] is not filled["main"]["messages"]  # defaults are not shared
    complete = fill(filled)
    assert complete is filled  # nothing to fill: no copy
    assert compile_filler(generated_defaults({"properties": {"x": {"default": 1}}})) is None  # not readOnly


SECRETS = frozenset({("config", "token"), ("config", "password"), ("items", "*", "secret")})


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param({"config": {"url": "u2"}}, {"url": "u2", "token": "t", "password": "p"}, id="not resent: kept"),
        pytest.param({"config": {"token": "t2"}}, {"token": "t2", "password": "p"}, id="one named: replaced"),
        pytest.param({"name": "n"}, {"url": "u", "token": "t", "password": "p"}, id="config untouched"),
    ],
)
def test_write_only_values_survive_an_update_that_does_not_resend_them(body: Any, expected: Any) -> None:
    old = {"config": {"url": "u", "token": "t", "password": "p"}, "items": [{"secret": "s"}]}
    sent = copy.deepcopy(body)
    new = {**old, **body}
    keep_write_only(SECRETS, old, body, new)
    assert new["config"] == expected
    assert body == sent  # the request body is not mutated


def test_a_replace_without_the_holding_object_drops_its_secrets() -> None:
    old = {"config": {"token": "t"}}
    new: dict[str, Any] = {"name": "n"}
    keep_write_only(SECRETS, old, {"name": "n"}, new)
    assert new == {"name": "n"}
