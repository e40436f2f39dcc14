"""`specmock verify` and `specmock replay` against real processes: a drifted provider fails (exit 1),
a faithful `specmock serve` passes (exit 0), a usage error is 2."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from contract_support import SECRET, WIDGETS, consumer_run, files_holding, provider, run, specmock


def test_verify_fails_a_drifted_provider_and_passes_a_faithful_one(tmp_path: Path):
    drifted = provider(tmp_path)
    faithful = specmock(tmp_path, "faithful", "serve", "--spec", str(WIDGETS))
    report, junit = tmp_path / "verify.json", tmp_path / "verify.xml"
    try:
        failed = run(
            "verify", "--spec", str(WIDGETS), "--target", drifted.url, "--report", str(report),
            "--junit", str(junit), env={"SPECMOCK_HEADER": f"Authorization: {SECRET}"},
        )  # fmt: skip
        passed = run("verify", "--spec", str(WIDGETS), "--target", faithful.url, "--header", f"Authorization: {SECRET}")
        unauthorized = run("verify", "--spec", str(WIDGETS), "--target", faithful.url)
    finally:
        drifted.stop()
        faithful.stop()
    assert failed.returncode == 1, failed.stdout + failed.stderr
    kinds = {(f["operationId"], f["kind"], f["pointer"]) for f in json.loads(report.read_text())["findings"]}
    assert kinds == {
        ("getWidget", "missing-required", "/createdAt"),
        ("listWidgets", "enum", "/0/color"),
        ("deleteWidget", "undeclared-status", ""),  # a success (200), but not one the spec declares
    }
    assert "<testsuite" in junit.read_text() and 'failures="3"' in junit.read_text()
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "PASS" in passed.stdout and "FAIL" not in passed.stdout
    assert "deleteWidget" in passed.stdout and "getWidget (after delete)" in passed.stdout
    assert unauthorized.returncode == 1  # 401 everywhere: no step succeeds
    assert files_holding(tmp_path, SECRET.split()[1]) == []


def test_verify_usage_errors_exit_2(tmp_path: Path):
    missing = run("verify", "--spec", str(tmp_path / "nope.yaml"), "--target", "http://127.0.0.1:9")
    assert missing.returncode == 2 and "nope.yaml" in missing.stderr
    bad_url = run("verify", "--spec", str(WIDGETS), "--target", "ftp://example")
    assert bad_url.returncode == 2
    bad_header = run("verify", "--spec", str(WIDGETS), "--target", "http://127.0.0.1:9", "--header", "no colon here")
    assert bad_header.returncode == 2 and "no colon here" not in bad_header.stderr
    no_target = run("verify", "--spec", str(WIDGETS))
    assert no_target.returncode == 2
    workers = run("proxy", "--spec", str(WIDGETS), "--upstream", "http://127.0.0.1:9", "--workers", "2")
    assert workers.returncode == 2 and "--workers" in workers.stderr
    bad_upstream = run("proxy", "--spec", str(WIDGETS), "--upstream", "not a url")
    assert bad_upstream.returncode == 2
    not_a_journal = run("replay", str(WIDGETS), "--target", "http://127.0.0.1:9")
    assert not_a_journal.returncode == 2 and "not a journal" in not_a_journal.stderr


def test_replay_of_a_journal_fails_a_drifted_provider_and_passes_a_faithful_one(tmp_path: Path):
    mock = specmock(tmp_path, "mock", "serve", "--spec", str(WIDGETS))
    try:
        consumer_run(mock.url)
        journal = tmp_path / "journal.json"
        journal.write_text(httpx.get(f"{mock.url}/__specmock/journal").text)
    finally:
        mock.stop()
    drifted = provider(tmp_path)
    faithful = specmock(tmp_path, "faithful", "serve", "--spec", str(WIDGETS), "--seed", "9")
    header = ("--header", f"Authorization: {SECRET}")
    try:
        failed = run("replay", str(journal), "--spec", str(WIDGETS), "--target", drifted.url, *header)
        passed = run("replay", str(journal), "--spec", str(WIDGETS), "--target", faithful.url, *header)
    finally:
        drifted.stop()
        faithful.stop()
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "the mock answered 204, the provider 200" in failed.stdout
    assert "getWidget GET /widgets/{widgetId} 200: difference at /createdAt" in failed.stdout
    # ids the drifted provider chose (w100...) were carried forward: the later reads found the item
    assert "the mock answered 200, the provider 404" not in failed.stdout
    assert passed.returncode == 0, passed.stdout + passed.stderr


def test_replay_ignores_what_an_ignore_pointer_names(tmp_path: Path):
    mock = specmock(tmp_path, "mock", "serve", "--spec", str(WIDGETS))
    try:
        consumer_run(mock.url)
        journal = tmp_path / "journal.json"
        entries = httpx.get(f"{mock.url}/__specmock/journal").json()["entries"]
        entries = [e for e in entries if e["operationId"] in ("createWidget", "getWidget")]
        journal.write_text(json.dumps({"entries": entries}))
    finally:
        mock.stop()
    drifted = provider(tmp_path)
    try:
        header = ("--header", f"Authorization: {SECRET}")
        strict = run("replay", str(journal), "--spec", str(WIDGETS), "--target", drifted.url, *header)
        lenient = run(
            "replay", str(journal), "--spec", str(WIDGETS), "--target", drifted.url, *header, "--ignore", "/createdAt"
        )
    finally:
        drifted.stop()
    assert strict.returncode == 1
    assert lenient.returncode == 0, lenient.stdout


def test_verify_and_proxy_take_bundled_family_names_and_pass_a_faithful_mock(tmp_path: Path):
    faithful = specmock(tmp_path, "bundled", "serve")
    proxy = specmock(tmp_path, "proxy", "proxy", "--spec", "appsecplus", "--upstream", faithful.url)
    try:
        bearer = run(
            "verify", "--spec", "appsecplus", "--spec", "versori-connect", "--target", faithful.url,
            "--header", "Authorization: Bearer x", "--poll-timeout", "5",
        )  # fmt: skip
        token = run(
            "verify", "--spec", "sdelements", "--target", faithful.url,
            "--header", 'Authorization: Token "YOUR SDE ACCESS TOKEN"',
        )  # fmt: skip
        listed = httpx.get(f"{proxy.url}/connectors", headers={"Authorization": "Bearer x"})
        drift = httpx.get(f"{proxy.url}/__specmock/drift").json()["findings"]
    finally:
        proxy.stop()
        faithful.stop()
    assert bearer.returncode == 0, bearer.stdout + bearer.stderr
    assert "TriggerScan" in bearer.stdout and "GetScan (until final)" in bearer.stdout
    assert "CreateConnectorVersion" in bearer.stdout and "SKIP" not in bearer.stdout
    assert token.returncode == 0, token.stdout + token.stderr
    assert listed.status_code == 200 and drift == []


def test_verify_reports_a_lifecycle_that_does_not_finish_in_time(tmp_path: Path):
    appsecplus = str(WIDGETS.parent.parent.parent / "specs" / "appsecplus.yaml")
    slow = specmock(tmp_path, "slow", "serve", "--spec", appsecplus, "--scenario", "slow-scans")
    try:
        done = run(
            "verify", "--spec", "appsecplus", "--target", slow.url, "--header", "Authorization: Bearer x",
            "--poll-timeout", "1",
        )  # fmt: skip
    finally:
        slow.stop()
    assert done.returncode == 1, done.stdout + done.stderr
    assert "GetScan (until final)" in done.stdout
    assert "expectation at /status: still 'queued' after 1 s" in done.stdout
