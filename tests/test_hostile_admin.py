"""Hostile admin input and scenario files: always a clean refusal, never a 500 or a traceback.

Control characters in scenario text, documents nested thousands of levels deep,
clock steps past the calendar and misshapen state imports are refused with the
reason (file:line for documents), and nothing changes.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from conftest import run_cli
from specmock._errors import LoadError
from specmock._server.app import MockApp
from specmock._testing.transport import SyncASGITransport

AS_JSON = {"Content-Type": "application/json"}
AS_YAML = {"Content-Type": "application/yaml"}
DEEP = "[" * 5000 + "]" * 5000


@pytest.fixture
def api() -> httpx.Client:
    return httpx.Client(transport=SyncASGITransport(MockApp()), base_url="http://mock")


@pytest.mark.parametrize("control", ["\x00", "\x1b", "\x07", "\x08", "\x7f"])
def test_scenario_text_with_a_control_character_is_a_clean_load_error(
    api: httpx.Client, tmp_path: Path, control: str
) -> None:
    text = f"name: fine\ndescription: bad{control}here\n"
    refused = api.put("/__specmock/scenario", content=text.encode(), headers=AS_YAML)
    assert refused.status_code == 400
    assert ":2: invalid YAML: control character" in refused.json()["error"]
    assert api.get("/__specmock/scenario").json() == {"active": None}

    path = tmp_path / "control.yaml"
    path.write_text(text)
    for command in (["validate", str(path)], ["serve", "--port", "0", "--scenario", str(path)]):
        run = run_cli(*command)
        assert run.returncode in (1, 2), run.stderr
        assert f"{path}:2: invalid YAML: control character" in run.stderr
        assert "Traceback" not in run.stderr


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ("rules: " + DEEP, AS_YAML),
        ("rules:\n" + "".join("  " * i + "- \n" for i in range(3000)), AS_YAML),
        ('{"rules": ' + DEEP + "}", AS_JSON),
    ],
)
def test_a_deeply_nested_scenario_is_refused_without_recursing(api: httpx.Client, body: str, headers: dict) -> None:
    refused = api.put("/__specmock/scenario", content=body.encode(), headers=headers)
    assert refused.status_code == 400
    assert "nested" in refused.json()["error"]


def test_a_deeply_nested_scenario_file_is_a_load_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("rules: " + DEEP)
    with pytest.raises(LoadError, match="nested more than"):
        MockApp(scenarios=[path])


def test_a_deeply_nested_state_import_is_refused(api: httpx.Client) -> None:
    before = api.get("/__specmock/state").json()
    body = '{"format": "specmock-state", "version": 2, "store": ' + DEEP + "}"
    refused = api.put("/__specmock/state", content=body.encode(), headers=AS_JSON)
    assert refused.status_code == 400
    assert "nested" in refused.json()["error"]
    assert api.get("/__specmock/state").json() == before


@pytest.mark.parametrize("seconds", ["1e308", "1e999", "NaN", "Infinity", "-Infinity", "315537897600"])
def test_a_clock_step_past_the_calendar_or_not_finite_is_a_400(api: httpx.Client, seconds: str) -> None:
    before = api.get("/__specmock/clock").json()
    refused = api.post("/__specmock/clock/advance", content=f'{{"seconds": {seconds}}}'.encode(), headers=AS_JSON)
    assert refused.status_code == 400
    assert api.get("/__specmock/clock").json()["frozen"] == before["frozen"]
    assert api.post("/__specmock/clock/advance", json={"seconds": 60}).status_code == 200


@pytest.mark.parametrize(
    "damage",
    [
        {"counters": {"appsecplus.applications": "1"}},
        {"counters": {"appsecplus.applications": 1.5}},
        {"counters": {"appsecplus.applications": True}},
        {"counters": {"nope": 1}},
        {"counters": []},
        {"collections": {"appsecplus.connectors": {}}},
        {"collections": {"nope": []}},
        {"collections": {"appsecplus.connectors": [{"scope": [], "key": ["a"], "item": {"id": ["a"]}}]}},
        {"collections": {"appsecplus.connectors": [{"scope": [], "key": True, "item": {"id": True}}]}},
        {"collections": {"appsecplus.connectors": [{"scope": [], "key": "a", "item": {}}]}},
        {"collections": {"appsecplus.connectors": [{"scope": [{}], "key": "a", "item": {"id": "a"}}]}},
        {"collections": {"appsecplus.connectors": [{"scope": [], "key": "a", "item": []}]}},
    ],
)
def test_a_misshapen_state_import_is_refused_before_anything_changes(api: httpx.Client, damage: dict) -> None:
    before = api.get("/__specmock/state").json()
    state = json.loads(json.dumps(before))
    state["store"].update(damage)
    refused = api.put("/__specmock/state", json=state)
    assert refused.status_code == 400, refused.text
    assert api.get("/__specmock/state").json() == before
    assert api.get("/connectors", headers={"Authorization": "Bearer t"}).status_code == 200


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (
            '{"format":"specmock-state","version":2,"store":{"collections":{},"counters":{"appsecplus.applications":"1"}}}',
            "whole numbers",
        ),
        (
            '{"format":"specmock-state","version":2,"store":{"collections":{},"counters":{"nope":1}}}',
            "names no collection",
        ),
        (
            '{"format":"specmock-state","version":2,"store":{"collections":{"appsecplus.connectors":'
            '[{"scope":[],"key":["a"],"item":{"id":["a"]}}]},"counters":{}}}',
            "malformed",
        ),
        ("[" * 100_000, "nested too deeply"),
    ],
)
def test_a_misshapen_state_file_stops_the_server_with_the_reason(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "state.json"
    path.write_text(content + "\n")
    run = run_cli("serve", "--port", "0", "--state-file", str(path))
    assert run.returncode == 2
    assert str(path) in run.stderr and reason in run.stderr
    assert "Traceback" not in run.stderr


NESTED_ITEMS = "/__specmock/collections/versori/connectors/items"  # nested one level: by organisation
CONNECTOR = {"name": "Scoped", "baseUrl": "https://example.com"}


@pytest.mark.parametrize("scope", ["abc", "o", 5, None, {"a": 1}, [], ["o1", "o2"], [True], [1.5], [["o1"]], [None]])
def test_a_fixture_scope_that_is_not_one_path_value_per_level_is_refused(api: httpx.Client, scope: object) -> None:
    before = api.get("/__specmock/state").json()
    refused = api.post(NESTED_ITEMS, json={**CONNECTOR, "_scope": scope})
    assert refused.status_code == 400, refused.text
    assert "_scope must be a list of 1 path value(s)" in refused.json()["error"]
    assert api.get("/__specmock/state").json() == before


def test_a_fixture_scope_of_one_path_value_per_level_is_where_the_item_is_stored(api: httpx.Client) -> None:
    added = api.post(NESTED_ITEMS, json={**CONNECTOR, "_scope": ["org-abc"]})
    assert added.status_code == 201, added.text
    assert added.json()["scope"] == ["org-abc"]
    listed = api.get("/__specmock/collections/versori/connectors").json()["items"]
    assert [(i["scope"], i["item"]["name"]) for i in listed] == [(["org-abc"], "Scoped")]


def test_a_scenario_fixture_with_a_misshapen_scope_is_refused_at_load_with_its_line(tmp_path: Path) -> None:
    scenario = tmp_path / "bad-scope.yaml"
    scenario.write_text("name: bad-scope\nfixtures:\n  appsecplus:\n    applications:\n      - {id: a, _scope: abc}\n")
    with pytest.raises(LoadError) as refused:
        MockApp(scenarios=[scenario])
    assert "bad-scope.yaml:5:" in str(refused.value) and "_scope must be a list" in str(refused.value)
