"""A user's test suite, as it runs in a project that only did `pip install specmock pytest`.

CI copies this folder into a fresh virtualenv with specmock's wheel and pytest
alone (no test extras, no pytest-xdist), runs it, then runs it again under
pytest-xdist: a wheel that breaks pytest in a user's environment fails CI.
It uses nothing beyond the standard library and what specmock installs.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

AUTH = {"Authorization": "Bearer t"}
CONNECTOR = {"type": "github", "name": "GitHub Main", "config": {"apiUrl": "https://api.github.com"}}


def test_unrelated_code_still_tests_fine() -> None:
    assert sorted([3, 1, 2]) == [1, 2, 3]


def test_create_then_read_in_process(specmock) -> None:  # type: ignore[no-untyped-def]
    created = specmock.client.post("/connectors", json=CONNECTOR, headers=AUTH)
    assert created.status_code == 201
    assert specmock.client.get(f"/connectors/{created.json()['id']}", headers=AUTH).json()["name"] == "GitHub Main"
    specmock.assert_called("RegisterConnector", times=1)


@pytest.mark.specmock(scenario="flaky-network", clock="frozen")
def test_marker_with_a_bundled_scenario(specmock) -> None:  # type: ignore[no-untyped-def]
    assert specmock.app.seed == 2024  # the scenario's seed, as `specmock serve --scenario flaky-network` uses


def test_over_a_real_socket(specmock_server) -> None:  # type: ignore[no-untyped-def]
    request = urllib.request.Request(specmock_server.url + "/connectors", headers=AUTH)
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert json.loads(response.read()) == []
