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
from specmock import dispatch, formats, lifecycle, listing, validation
from specmock.app import MockApp
from specmock.errors import Problem
from specmock.scenario_schema import SCENARIO_SCHEMA


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
    routes = [compiled.regex.pattern for compiled in app.router._dynamic]
    specs = [p for family in app.families for p in _schema_patterns(family.document)]
    return [p if isinstance(p, str) else p.decode("latin-1") for p in compiled] + routes + specs + _schema_patterns(
        SCENARIO_SCHEMA
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
