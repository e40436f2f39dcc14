"""Limits that keep one client from taking the server's CPU or memory.

Patterns applied to input are linear by construction (checked structurally, not
timed); bodies, lists, the journal and the store are bounded.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from conftest import BEARER, VERSORI
from linear_patterns import ambiguous_repeats
from specmock._errors import Problem
from specmock._runtime import listing
from specmock._scenario.schema import SCENARIO_SCHEMA
from specmock._server import dispatch
from specmock._server.app import MockApp
from specmock._spec import formats, lifecycle, validation


def _schema_patterns(node: object) -> list[str]:
    found: list[str] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            pattern = item.get("pattern")
            if isinstance(pattern, str):
                found.append(pattern)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def input_patterns() -> list[str]:
    """Every regular expression specmock applies to what a client or a scenario sends."""
    app = MockApp()
    modules = (dispatch, formats, lifecycle, validation)
    compiled = [v.pattern for m in modules for v in vars(m).values() if isinstance(v, re.Pattern)]
    # Path templates are matched without regular expressions (routing_trie.SegmentPattern).
    specs = [p for family in app.families for p in _schema_patterns(family.document)]
    return (
        [p if isinstance(p, str) else p.decode("latin-1") for p in compiled] + specs + _schema_patterns(SCENARIO_SCHEMA)
    )


def test_the_linearity_check_catches_the_classic_quadratic_patterns() -> None:
    assert ambiguous_repeats(r"^\s*\d+(\.\d+)?\s*(ms|s|m|h)?\s*$")  # the duration pattern before the fix
    assert ambiguous_repeats(r"^(a+)+$")
    assert ambiguous_repeats(r"^\d*\d*$")
    assert not ambiguous_repeats(r"^([^:,]+:(asc|desc))(,[^:,]+:(asc|desc))*$")


@pytest.mark.parametrize("pattern", sorted(set(input_patterns())))
def test_every_pattern_applied_to_input_is_linear(pattern: str) -> None:
    assert ambiguous_repeats(pattern) == []


def test_a_long_run_of_spaces_in_a_duration_is_refused_not_backtracked() -> None:
    hostile = "1" + " " * 40_000 + "x"
    with pytest.raises(ValueError, match="not a duration"):
        lifecycle.parse_duration(hostile)
    assert lifecycle.parse_duration(" 1.5 ms ") == pytest.approx(0.0015)
    assert lifecycle.parse_duration("2") == 2.0
    assert lifecycle.parse_duration("3m") == 180.0


# -- Versori sort ------------------------------------------------------------------------

CONNECTORS = f"{VERSORI}/connectors"


def _versori(client: httpx.Client, names: list[str]) -> None:
    for name in names:
        body = {"name": name, "serverUrl": "https://api.example.com", "tags": {}}
        created = client.post(CONNECTORS, json=body, headers=BEARER)
        assert created.status_code == 201, created.text


def test_a_sort_with_too_many_terms_is_refused_in_the_familys_format(client: httpx.Client) -> None:
    many = ",".join(["name:asc"] * 17)
    refused = client.get(CONNECTORS, params={"sort": many}, headers=BEARER)
    assert refused.status_code == 400
    assert "sort" in refused.text
    thousands = ",".join(["name:asc"] * 5000)
    assert client.get(CONNECTORS, params={"sort": thousands}, headers=BEARER).status_code == 400
    assert client.get(CONNECTORS, params={"sort": ",".join(["name:asc"] * 16)}, headers=BEARER).status_code == 200


def test_the_python_cap_holds_for_a_spec_without_a_pattern() -> None:
    items = [{"name": str(i)} for i in range(3)]
    with pytest.raises(Problem):
        listing.apply_sort(items, ",".join(["name:asc"] * (listing.MAX_SORT_TERMS + 1)))


def test_a_multi_term_sort_is_one_sort_on_a_composite_key(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def counting_sorted(items: Any, **kwargs: Any) -> list[Any]:
        calls.append(kwargs)
        return sorted(items, **kwargs)

    monkeypatch.setattr(listing, "sorted", counting_sorted, raising=False)
    items = [
        {"name": "b", "id": 1},
        {"name": "a", "id": 2},
        {"name": "b", "id": 3},
        {"name": None, "id": 4},
        {"name": "A", "id": 5},
    ]
    ordered = listing.apply_sort(items, "name:asc,id:desc")
    assert [i["id"] for i in ordered] == [5, 2, 3, 1, 4]  # case-insensitive, ties by id desc, None last
    assert len(calls) == 1
    assert [i["id"] for i in listing.apply_sort(items, "name:desc,id:asc")] == [4, 1, 3, 2, 5]


# -- memory bounds: journal bodies, journal bytes, items per collection ----------------------


def _app_client(app: MockApp) -> httpx.Client:
    from specmock._testing.transport import SyncASGITransport

    return httpx.Client(transport=SyncASGITransport(app), base_url="http://mock")


def _connector(i: int) -> dict[str, Any]:
    return {"type": "github", "name": f"conn {i:04d}", "config": {"apiUrl": "https://a.example/" + "x" * 200}}


def test_the_journal_keeps_the_head_of_a_long_body_with_a_marker() -> None:
    app = MockApp(journal_body_limit=100)
    api = _app_client(app)
    for i in range(3):
        assert api.post("/connectors", json=_connector(i), headers=BEARER).status_code == 201
    listed = api.get("/connectors", headers=BEARER)
    entry = app.journal.entries("ListConnectors")[-1]
    assert len(entry.response_raw) == 100
    assert entry.response_bytes == len(listed.content) > 100
    assert entry.response_body.endswith(f"...[truncated: {len(listed.content)} bytes in all]")
    created = app.journal.entries("RegisterConnector")[-1].as_dict()
    assert created["requestBody"].startswith("[request body of")  # over the limit: not kept
    journal = api.get("/__specmock/journal").json()  # still valid JSON through the admin API
    assert journal["count"] == 4


def test_the_journal_holds_a_bounded_number_of_bytes() -> None:
    app = MockApp(journal_body_limit=1000, journal_bytes=5000)
    api = _app_client(app)
    for i in range(50):
        api.post("/connectors", json=_connector(i), headers=BEARER)
    assert app.journal.bytes <= 5000
    assert 0 < len(app.journal) < 50
    assert app.journal.entries()[-1].seq == 50  # the newest stay
    api.delete("/__specmock/journal")
    assert app.journal.bytes == 0


def test_a_collection_at_max_items_refuses_creates_in_the_familys_format() -> None:
    app = MockApp(max_items=3)
    api = _app_client(app)
    before = app.store.size("appsecplus.connectors")
    for i in range(3 - before):
        assert api.post("/connectors", json=_connector(i), headers=BEARER).status_code == 201
    refused = api.post("/connectors", json=_connector(99), headers=BEARER)
    assert refused.status_code == 507
    assert "limit of 3" in refused.text
    assert app.store.size("appsecplus.connectors") == 3
    victim = api.get("/connectors", headers=BEARER).json()[0]["id"]
    assert api.delete(f"/connectors/{victim}", headers=BEARER).status_code == 204
    assert api.post("/connectors", json=_connector(100), headers=BEARER).status_code == 201


def test_the_default_limits_are_generous() -> None:
    from specmock._server.cli import build_app, parse_args

    app = build_app(parse_args(["serve"]))
    assert app.engine.max_items == 100_000
    assert app.journal.body_limit == 64 * 1024
    assert app.journal.max_bytes == 64 * 1024 * 1024
