"""Pact v4 export: the Pact Foundation's own verifier (`pact verifier`, PyPI pact-python-cli)
accepts a pact exported from one `specmock serve` run against a FRESH `specmock serve`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from contract_support import SECRET, WIDGETS, WRITE_ONLY, consumer_run, specmock

PACT = shutil.which("pact") or str(Path(sys.executable).with_name("pact"))


def _export(tmp_path: Path) -> Path:
    mock = specmock(tmp_path, "consumer-mock", "serve", "--spec", str(WIDGETS))
    try:
        consumer_run(mock.url)
        answer = httpx.get(f"{mock.url}/__specmock/pact", params={"consumer": "shop", "provider": "widgets"})
    finally:
        mock.stop()
    assert answer.status_code == 200
    pact = tmp_path / "shop-widgets.json"
    pact.write_text(answer.text)
    return pact


def test_the_export_is_pact_v4_without_credentials_and_with_matching_rules(tmp_path: Path):
    pact = json.loads(_export(tmp_path).read_text())
    assert pact["metadata"]["pactSpecification"]["version"] == "4.0"
    assert (pact["consumer"]["name"], pact["provider"]["name"]) == ("shop", "widgets")
    interactions = pact["interactions"]
    assert [i["response"]["status"] for i in interactions] == [201, 200, 200, 200, 204, 201, 200]
    assert interactions[0]["providerStates"] == [{"name": "the provider holds only its fixtures"}]
    rules = interactions[0]["response"]["matchingRules"]["body"]
    assert set(rules) == {"$.id", "$.createdAt"}
    assert set(interactions[2]["response"]["matchingRules"]["body"]) == {"$[0].id", "$[0].createdAt"}
    text = json.dumps(pact)
    assert SECRET.split()[1] not in text and WRITE_ONLY not in text and "Authorization" not in text


@pytest.mark.skipif(not Path(PACT).exists(), reason="pact-python-cli is not installed (pip install specmock[test])")
def test_the_pact_verifier_accepts_the_export_against_a_fresh_provider(tmp_path: Path):
    pact = _export(tmp_path)
    fresh = specmock(tmp_path, "fresh-provider", "serve", "--spec", str(WIDGETS), "--seed", "3")
    port = fresh.url.rsplit(":", 1)[1]
    try:
        verified = subprocess.run(
            [
                PACT, "verifier", "--file", str(pact), "--hostname", "127.0.0.1", "--port", port,
                "--header", f"Authorization={SECRET}",
                "--state-change-url", f"{fresh.url}/__specmock/pact/state", "--no-colour",
            ],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    finally:
        fresh.stop()
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "7 interactions" in verified.stdout or "OK" in verified.stdout


def test_the_pytest_plugin_writes_a_pact_and_a_journal_per_session(pytester: pytest.Pytester):
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.specmock(spec={str(WIDGETS)!r})
        def test_create_and_read(specmock):
            headers = {{"Authorization": "Bearer t"}}
            created = specmock.client.post("/widgets", json={{"name": "a", "color": "red"}}, headers=headers)
            assert specmock.client.get(f"/widgets/{{created.json()['id']}}", headers=headers).status_code == 200

        @pytest.mark.specmock(spec={str(WIDGETS)!r})
        def test_list(specmock):
            assert specmock.client.get("/widgets", headers={{"Authorization": "Bearer t"}}).status_code == 200
        """
    )
    result = pytester.runpytest(
        "-p", "no:xdist", "--specmock-pact", "out/pact.json", "--specmock-pact-consumer", "shop",
        "--specmock-journal", "out/journal.json",
    )  # fmt: skip
    result.assert_outcomes(passed=2)
    pact = json.loads((pytester.path / "out" / "pact.json").read_text())
    assert pact["consumer"]["name"] == "shop"
    assert [i["request"]["method"] for i in pact["interactions"]] == ["POST", "GET", "GET"]
    # each test starts from a fresh provider: its first interaction carries the state that resets one
    assert ["providerStates" in i for i in pact["interactions"]] == [True, False, True]
    journal = json.loads((pytester.path / "out" / "journal.json").read_text())
    assert [e["operationId"] for e in journal["entries"]] == ["createWidget", "getWidget", "listWidgets"]
