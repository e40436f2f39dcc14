"""`specmock proxy`: a drifted provider's planted differences, exactly; none on a faithful one;
the recording serves as a scenario; no secret reaches any file; hostile providers get 502/504."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from contract_support import (
    SECRET,
    WIDGETS,
    WRITE_ONLY,
    consumer_run,
    files_holding,
    planted,
    provider,
    specmock,
)


def _seen(findings: list[dict[str, object]]) -> set[tuple[object, ...]]:
    return {(f["operationId"], f["status"], f["kind"], f["pointer"]) for f in findings}


def test_proxy_reports_exactly_the_planted_differences(tmp_path: Path):
    upstream = provider(tmp_path)
    report, junit, record = tmp_path / "drift.json", tmp_path / "drift.xml", tmp_path / "recorded.yaml"
    proxy = specmock(
        tmp_path,
        "proxy",
        "proxy",
        "--spec",
        str(WIDGETS),
        "--upstream",
        upstream.url,
        "--report",
        str(report),
        "--junit",
        str(junit),
        "--record",
        str(record),
        quiet=False,  # every log line goes to a file in tmp_path too, and is grepped for the secret
    )
    try:
        answers = consumer_run(proxy.url)
        assert [a.status_code for a in answers] == [201, 200, 200, 200, 200, 201, 200]  # unchanged
        assert answers[2].json()[0]["color"] == "purple"
        live = httpx.get(f"{proxy.url}/__specmock/drift").json()["findings"]
        assert _seen(live) == planted()
        journal = httpx.get(f"{proxy.url}/__specmock/journal").json()["entries"]
        assert [e["findings"][0]["kind"] for e in journal if "findings" in e] == [
            "missing-required",
            "enum",
            "undeclared-status",
            "missing-required",
        ]
        exported = httpx.get(f"{proxy.url}/__specmock/journal").text
        assert SECRET not in exported and WRITE_ONLY not in exported
    finally:
        proxy.stop()
        upstream.stop()
    written = json.loads(report.read_text())
    assert _seen(written["findings"]) == planted()
    assert set(written["findings"][0]) >= {"operationId", "method", "path", "status", "kind", "pointer", "detail"}
    assert 'failures="3"' in junit.read_text()
    assert '"findings":["missing-required /createdAt"]' in proxy.log.read_text()  # the access log, and no secret
    assert files_holding(tmp_path, SECRET.split()[1], WRITE_ONLY) == []

    mock = specmock(tmp_path, "replayed", "serve", "--spec", str(WIDGETS), "--scenario", str(record))
    try:
        held = httpx.get(f"{mock.url}/widgets", headers={"Authorization": SECRET}).json()
        assert [(w["id"], w["name"]) for w in held] == [("w100", "gear")]
        assert held[0]["createdAt"].endswith("Z")
    finally:
        mock.stop()


def test_proxy_finds_nothing_on_a_faithful_provider(tmp_path: Path):
    upstream = specmock(tmp_path, "faithful", "serve", "--spec", str(WIDGETS))
    proxy = specmock(tmp_path, "proxy", "proxy", "--spec", str(WIDGETS), "--upstream", upstream.url)
    try:
        answers = consumer_run(proxy.url)
        assert [a.status_code for a in answers] == [201, 200, 200, 200, 204, 201, 200]
        assert httpx.get(f"{proxy.url}/__specmock/drift").json()["findings"] == []
    finally:
        proxy.stop()
        upstream.stop()


@pytest.fixture(scope="module")
def hostile_proxies(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A proxy in front of the hostile provider (it misbehaves as each request's X-Mode asks),
    and one in front of a port where nothing listens."""
    logs = tmp_path_factory.mktemp("hostile")
    upstream = provider(logs, "hostile")
    limits = ("--timeout", "1", "--max-upstream-body", "1000000")
    hostile = specmock(logs, "proxy", "proxy", "--spec", str(WIDGETS), "--upstream", upstream.url, *limits)
    nowhere = specmock(logs, "refused", "proxy", "--spec", str(WIDGETS), "--upstream", "http://127.0.0.1:9", *limits)
    try:
        yield {"hostile": hostile.url, "refused": nowhere.url}
    finally:
        for process in (hostile, nowhere, upstream):
            process.stop()


@pytest.mark.parametrize(
    ("mode", "status", "detail"),
    [
        ("refused", 502, "cannot be reached"),
        ("slow", 504, "did not answer within"),
        ("huge", 502, "larger than"),
        ("badjson", 502, "not what its content type says"),
        ("mislabeled", 502, "not what its content type says"),
    ],
)
def test_a_hostile_provider_gets_the_client_a_502_or_504_and_a_finding(
    hostile_proxies: dict[str, str], mode: str, status: int, detail: str
):
    url = hostile_proxies["refused" if mode == "refused" else "hostile"]
    httpx.delete(f"{url}/__specmock/drift")
    answer = httpx.get(f"{url}/widgets", headers={"Authorization": SECRET, "X-Mode": mode}, timeout=10)
    assert answer.status_code == status
    assert detail in answer.json()["message"]  # the Widgets family's error format: {"message": ...}
    findings = httpx.get(f"{url}/__specmock/drift").json()["findings"]
    assert [(f["operationId"], f["kind"]) for f in findings] == [
        ("listWidgets", "invalid-body" if mode in ("badjson", "mislabeled") else "upstream")
    ]
    assert httpx.get(f"{url}/__specmock/health").status_code == 200  # still serving
