"""Every ```sh command in docs/drift.md runs here, as written (with openapi.yaml the Widgets spec,
$PROVIDER_URL a `specmock serve`, and port 8080 the port the proxy got)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from contract_support import PACT_BIN, SECRET, WIDGETS, Process, consumer_run, specmock

DOC = Path(__file__).resolve().parent.parent / "docs" / "drift.md"


def commands() -> list[str]:
    return [
        line.strip()
        for block in re.findall(r"```sh\n(.*?)```", DOC.read_text(), re.S)
        for line in block.splitlines()
        if line.strip()
    ]


def _argv(command: str, env: dict[str, str], cwd: Path) -> list[str]:
    argv = [os.path.expandvars(part) if "$" in part else part for part in shlex.split(command)]
    for key, value in env.items():
        argv = [part.replace(f"${key}", value) for part in argv]
    argv = [str(WIDGETS) if part == "openapi.yaml" else part for part in argv]
    if argv[0] == "specmock":
        return [sys.executable, "-m", "specmock", *argv[1:]]
    if argv[0] == "pytest":
        return [sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider", *argv[1:]]
    if argv[0] == "pact":
        return [PACT_BIN, *argv[1:]]
    return argv


def test_every_sh_command_in_the_drift_page_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)  # the page's relative paths (drift.json, recorded.yaml) land here
    lines = commands()
    by_word = {line.split()[0] + " " + line.split()[1]: line for line in lines}
    assert set(by_word) == {
        "specmock proxy", "specmock serve", "specmock verify", "specmock replay", "curl -s", "pact verifier",
        "pytest --specmock-pact",
    }  # fmt: skip
    upstream = specmock(tmp_path, "upstream", "serve", "--spec", str(WIDGETS))
    env = {"PROVIDER_URL": upstream.url, "TOKEN": SECRET.split()[1]}
    proxy_argv = _argv(by_word["specmock proxy"], env, tmp_path)
    proxy_argv[proxy_argv.index("--port") + 1] = "0"
    proxy = Process([*proxy_argv, "--no-access-log"], tmp_path, "proxy")
    try:
        consumer_run(proxy.url)
        curl = _argv(by_word["curl -s"].replace("http://127.0.0.1:8080", proxy.url), env, tmp_path)
        subprocess.run(curl, check=True, cwd=tmp_path, timeout=30)
        (tmp_path / "journal.json").write_text(httpx.get(f"{upstream.url}/__specmock/journal").text)
    finally:
        assert proxy.stop() in (0, -15)
        upstream.stop()
    assert (tmp_path / "drift.json").exists() and (tmp_path / "drift.xml").exists()
    served = Process([*_argv(by_word["specmock serve"], env, tmp_path), "--port", "0"], tmp_path, "recorded")
    served.stop()

    fresh = specmock(tmp_path, "fresh", "serve", "--spec", str(WIDGETS))
    env["PROVIDER_URL"] = fresh.url
    run_env = {**os.environ, "SPECMOCK_HEADER": f"Authorization: {SECRET}"}
    try:
        pact = by_word["pact verifier"].replace("127.0.0.1:8080", fresh.url.removeprefix("http://"))
        pact = pact.replace("--port 8080", f"--port {fresh.url.rsplit(':', 1)[1]}")
        verified = subprocess.run(_argv(pact, env, tmp_path), cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert verified.returncode == 0, verified.stdout
        for word in ("specmock verify", "specmock replay"):
            done = subprocess.run(
                _argv(by_word[word], env, tmp_path), cwd=tmp_path, capture_output=True, text=True, timeout=120,
                env=run_env,
            )  # fmt: skip
            assert done.returncode == 0, word + "\n" + done.stdout + done.stderr
    finally:
        fresh.stop()

    (tmp_path / "test_shop.py").write_text(
        "import pytest\n\n"
        f"@pytest.mark.specmock(spec={str(WIDGETS)!r})\n"
        "def test_list(specmock):\n"
        "    assert specmock.client.get('/widgets', headers={'Authorization': 'Bearer t'}).status_code == 200\n"
    )
    tested = subprocess.run(
        [*_argv(by_word["pytest --specmock-pact"], env, tmp_path), "test_shop.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert tested.returncode == 0, tested.stdout
    assert (tmp_path / "pacts" / "shop-widgets.json").exists() and (tmp_path / "journal.json").exists()
