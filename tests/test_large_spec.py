"""GitHub's REST description, served with zero configuration (skipped when it is absent).

The 13 MB document is not vendored: .ci/run fetches it with `npm pack @octokit/openapi`
into benchmarks/.cache/ (as benchmarks/bench_large_spec.py does), or point
SPECMOCK_GITHUB_SPEC at a copy of `api.github.com.json`.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from specmock import MockApp
from specmock._testing.transport import SyncASGITransport

CACHED = Path(__file__).resolve().parent.parent / "benchmarks" / ".cache" / "api.github.com.json"
GITHUB = Path(os.environ.get("SPECMOCK_GITHUB_SPEC") or CACHED)
TOKEN = {"Authorization": "Bearer t"}

pytestmark = pytest.mark.skipif(not GITHUB.exists(), reason=f"GitHub's REST description is not at {GITHUB}")


@pytest.fixture(scope="module")
def github() -> MockApp:
    return MockApp([GITHUB], seed=1)


@pytest.fixture
def client(github: MockApp) -> Iterator[httpx.Client]:
    github.reset()
    with httpx.Client(transport=SyncASGITransport(github), base_url="http://testserver") as c:
        yield c


def test_every_operation_is_served(github: MockApp) -> None:
    assert len(github.operations) > 1000
    actions = {op.action for op in github.operations}
    assert {"list", "create", "get", "delete", "example"} <= actions


def test_gists_keep_state(client: httpx.Client) -> None:
    body = {"description": "notes", "public": True, "files": {"a.txt": {"content": "hi"}}}
    created = client.post("/gists", json=body, headers=TOKEN)
    assert created.status_code == 201
    gist = created.json()
    assert client.get(f"/gists/{gist['id']}", headers=TOKEN).json() == gist
    assert client.get("/gists", headers=TOKEN).json() == [gist]
    assert client.delete(f"/gists/{gist['id']}", headers=TOKEN).status_code == 204
    missing = client.get(f"/gists/{gist['id']}", headers=TOKEN)
    assert missing.status_code == 404 and missing.json()["message"] == "Gist not found."
    invalid = client.post("/gists", json={"files": 5}, headers=TOKEN)
    assert invalid.status_code == 400 and invalid.json()["message"]


def test_parameters_sharing_a_segment_are_routed(client: httpx.Client) -> None:
    assert client.get("/repos/octo/hello/compare/main...topic", headers=TOKEN).status_code == 200


def test_routing_does_not_scan_the_operations(github: MockApp) -> None:
    paths = [re.sub(r"\{[^}]+\}", "x1", op.path) for op in github.operations]
    started = time.perf_counter()
    for path in paths:
        github.router.match("GET", path)
    per_match = (time.perf_counter() - started) / len(paths)
    assert per_match < 0.001, f"{per_match * 1e6:.0f} us per match"
