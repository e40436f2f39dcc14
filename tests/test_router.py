"""The router on its own: a method and a raw path to an operation, or to the family whose errors apply."""

from __future__ import annotations

import pytest

from specmock import load_specs
from specmock._server.router import Router
from specmock._spec.model import Family

FAMILIES = load_specs()
ROUTER = Router(FAMILIES)


def route(method: str, path: str) -> tuple[str | None, dict[str, str]]:
    match = ROUTER.match(method, path)
    return (match.operation.qualified_id if match.operation else None), match.path_values


@pytest.mark.parametrize(
    ("method", "path", "operation"),
    [
        ("GET", "/connectors", "appsecplus:ListConnectors"),
        ("POST", "/connectors", "appsecplus:RegisterConnector"),
        ("GET", "/connectors/conn-001", "appsecplus:GetConnector"),
        ("GET", "/api/v2/connectors/alm/", "sdelements:ListAlmConnectors"),
        ("GET", "/api/v2/connectors/alm", "sdelements:ListAlmConnectors"),  # trailing slash optional
    ],
)
def test_each_documented_path_reaches_its_operation(method: str, path: str, operation: str):
    assert route(method, path)[0] == operation


def test_path_values_are_decoded_after_matching_so_an_encoded_slash_stays_one_id():
    operation, values = route("GET", "/connectors/a%2Fb")
    assert operation == "appsecplus:GetConnector"
    assert values == {"connectorId": "a/b"} or list(values.values()) == ["a/b"]


def test_head_is_routed_like_get():
    assert route("HEAD", "/connectors")[0] == "appsecplus:ListConnectors"


def test_a_known_path_with_another_method_reports_the_allowed_ones():
    match = ROUTER.match("PATCH", "/connectors")
    assert match.operation is None
    assert match.allowed == ("GET", "HEAD", "POST")


def test_an_unknown_path_falls_to_the_family_with_the_longest_prefix():
    assert ROUTER.match("GET", "/api/v2/nothing-here").family.name == "sdelements"
    assert ROUTER.match("GET", "/api/v2/nothing-here").operation is None


def test_a_longer_route_with_literal_segments_wins_over_a_shorter_one_with_parameters():
    base = "/api/connect/v1/o/org-1/connectors/c-1/versions"
    assert route("GET", f"{base}/v2")[0] == "versori:GetConnectorVersion"
    assert route("POST", f"{base}/v2/publish")[0] == "versori:PublishConnector"
    values = {"organisation_id": "org-1", "connector_id": "c-1", "version": "v2"}
    assert route("POST", f"{base}/v2/publish")[1] == values


def test_two_families_declaring_one_route_is_refused_naming_both():
    appsec = next(f for f in FAMILIES if f.name == "appsecplus")
    with pytest.raises(ValueError, match="declared by both"):
        Router([appsec, _renamed(appsec, "copy")])


def _renamed(family: Family, name: str) -> Family:
    import copy

    clone = copy.copy(family)
    clone.name = name
    clone.operations = [copy.copy(op) for op in family.operations]
    for op in clone.operations:
        op.family = clone
    return clone
