"""The `specmock` command as a user meets it: subprocesses, real ports, exit statuses and the lines printed.

Exit statuses: 0 done, 1 the command ran and failed (port in use, permission denied,
`validate` found problems), 2 usage (the command line or a file it names must change).
Every refusal is one line on stderr, never a traceback.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import run_cli

LONG_PATH = "/organisations/{organisationId}/projects/{projectId}/environments/{environmentId}/deployments"
PETS = f"""openapi: 3.1.0
info: {{title: pets, version: "1"}}
paths:
  /pets:
    get:
      operationId: ListPets
      responses: {{"200": {{description: ok}}}}
  {LONG_PATH}:
    get:
      operationId: ListDeployments
      parameters:
        - {{name: organisationId, in: path, required: true, schema: {{type: string}}}}
        - {{name: projectId, in: path, required: true, schema: {{type: string}}}}
        - {{name: environmentId, in: path, required: true, schema: {{type: string}}}}
      responses: {{"200": {{description: ok}}}}
"""


def assert_one_line(stderr: str) -> str:
    """The refusal: one line, no traceback."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.fixture
def pets(tmp_path: Path) -> Path:
    path = tmp_path / "pets.yaml"
    path.write_text(PETS, encoding="utf-8")
    return path


class Serving:
    """A `specmock serve` started with ARGS; the lines it printed until it listened."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        command = [sys.executable, "-m", "specmock", "serve", "--port", "0", "--no-access-log", *args]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        assert self.process.stdout is not None
        self.lines: list[str] = []
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.startswith("specmock dashboard at "):
                break
        found = [re.search(r"listening on (http://\S+)", line) for line in self.lines]
        urls = [m.group(1) for m in found if m]
        assert urls, "\n".join(self.lines)
        self.url = urls[0]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def serving() -> Iterator[list[Serving]]:
    started: list[Serving] = []
    yield started
    for server in started:
        server.stop()


# -- one grammar: documents positional, --spec the same, bundled names beside files ----------------


def test_serve_takes_the_document_positionally_and_prints_the_dashboard_url(pets: Path, serving: list[Serving]):
    server = Serving(str(pets))
    serving.append(server)
    assert httpx.get(f"{server.url}/pets").status_code == 200
    assert httpx.get(f"{server.url}/connectors").status_code == 404  # only the document given is served
    dashboard = [line for line in server.lines if line.startswith("specmock dashboard at ")]
    assert dashboard == [f"specmock dashboard at {server.url}/__specmock/ui/"]
    assert httpx.get(dashboard[0].split(" at ")[1]).status_code == 200


def test_serve_takes_bundled_names_beside_files(pets: Path, serving: list[Serving]):
    server = Serving("appsecplus", "--spec", str(pets))
    serving.append(server)
    assert httpx.get(f"{server.url}/pets").status_code == 200
    assert httpx.get(f"{server.url}/connectors", headers={"Authorization": "Bearer t"}).status_code == 200


@pytest.mark.parametrize("command", ["routes", "validate"])
def test_every_command_takes_documents_positionally_or_by_spec_alike(command: str, pets: Path):
    positional = run_cli(command, "sdelements", str(pets))
    flagged = run_cli(command, "--spec", "sdelements", "--spec", str(pets))
    assert positional.returncode == flagged.returncode == 0, positional.stderr + flagged.stderr
    assert positional.stdout == flagged.stdout
    assert "pets" in positional.stdout


def test_documents_may_stand_on_both_sides_of_the_flags(pets: Path):
    done = run_cli("routes", "appsecplus", "--overlay", str(pets.with_name("none.yaml")), str(pets))
    assert done.returncode == 2 and "none.yaml: cannot read" in done.stderr  # the overlay is read: both parsed
    done = run_cli("routes", "sdelements", "--spec", "appsecplus", str(pets))
    assert done.returncode == 0, done.stderr
    assert {line.split()[0] for line in done.stdout.splitlines()} == {"sdelements", "appsecplus", "pets"}
    extra = run_cli("schema", "extra")
    assert extra.returncode == 2
    assert "unrecognized arguments: extra" in assert_one_line(extra.stderr)


def test_routes_lists_bundled_names_and_aligns_columns_on_long_paths(pets: Path):
    done = run_cli("routes", "appsecplus", str(pets))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert {line.split()[0] for line in lines} == {"appsecplus", "pets"}
    starts = {line.index(line.split()[3]) for line in lines}
    assert len(starts) == 1, "the operationId column starts at one offset:\n" + done.stdout
    assert any(LONG_PATH in line for line in lines)


def test_infer_takes_a_file_or_a_bundled_name(pets: Path):
    assert run_cli("infer", str(pets)).returncode == 0
    bundled = run_cli("infer", "versori-connect")
    assert bundled.returncode == 0, bundled.stderr
    assert "extends: versori-connect.yaml" in bundled.stdout


def test_an_unknown_bundled_name_is_one_line_with_the_nearest_name():
    done = run_cli("routes", "appsecplu")
    assert done.returncode == 2
    line = assert_one_line(done.stderr)
    assert "did you mean 'appsecplus'?" in line and "versori-connect" in line


def test_validate_tells_an_openapi_document_from_a_scenario(pets: Path, tmp_path: Path):
    scenario = tmp_path / "pets-down.yaml"
    scenario.write_text("rules:\n  - match: {operationId: ListPets}\n    respond: {status: 200}\n")
    done = run_cli("validate", str(pets), str(scenario))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"ok {pets}", f"ok {scenario}", "1 spec(s), 1 scenario(s) checked, 0 broken"]


def test_validate_checks_bundled_documents_by_name():
    done = run_cli("validate", "appsecplus", "rate-limited")
    assert done.returncode == 0, done.stderr
    assert "1 spec(s), 1 scenario(s) checked, 0 broken" in done.stdout


def test_validate_refuses_an_overlay_passed_as_a_document(tmp_path: Path):
    overlay = tmp_path / "o.yaml"
    overlay.write_text("overlay: 1.0.0\ninfo: {title: o, version: '1'}\nactions: []\n")
    done = run_cli("validate", str(overlay))
    assert done.returncode == 1
    assert "pass it with --overlay" in assert_one_line(done.stderr)


def test_version_prints_the_installed_version():
    done = run_cli("--version")
    assert done.returncode == 0
    assert re.fullmatch(r"specmock \S+\n", done.stdout)


# -- ranges, checked by argparse (and the same for environment variables) ------------------------


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--port", "99999"], "--port must be a port number 0-65535"),
        (["--port", "-1"], "--port must be a port number 0-65535"),
        (["--port", "http"], "--port must be a whole number"),
        (["--workers", "0"], "--workers must be 1 or more"),
        (["--journal-size", "0"], "--journal-size must be 1 or more"),
        (["--max-connections", "-3"], "--max-connections must be 1 or more"),
        (["--max-body", "-5"], "--max-body must be a size in bytes"),
        (["--max-body", "10XB"], "--max-body must be a size in bytes"),
        (["--header-timeout", "0"], "--header-timeout must be above zero"),
        (["--body-timeout", "soon"], "--body-timeout must be a duration"),
        (["--loop", "uvlop"], "did you mean 'uvloop'?"),
        (["--prot", "8080"], "did you mean '--port'?"),
    ],
)
def test_out_of_range_flags_are_one_usage_line(args: list[str], says: str):
    done = run_cli("serve", *args)
    assert done.returncode == 2
    assert says in assert_one_line(done.stderr)


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [("PORT", "99999", "port number 0-65535"), ("MAX_BODY", "lots", "size in bytes"), ("WORKERS", "0", "1 or more")],
)
def test_out_of_range_environment_variables_are_refused_alike(variable: str, value: str, says: str):
    env = {**os.environ, f"SPECMOCK_{variable}": value}
    done = subprocess.run([sys.executable, "-m", "specmock", "serve"], capture_output=True, text=True, env=env)
    assert done.returncode == 2
    line = assert_one_line(done.stderr)
    assert f"SPECMOCK_{variable}='{value}'" in line and says in line


def test_sizes_and_durations_take_units(serving: list[Serving]):
    server = Serving("appsecplus", "--max-body", "1KiB", "--header-timeout", "500ms")
    serving.append(server)
    big = httpx.post(f"{server.url}/connectors", content=b"x" * 2048, headers={"Authorization": "Bearer t"})
    assert big.status_code == 413


def test_a_near_miss_command_is_named():
    done = run_cli("serv")
    assert done.returncode == 2
    assert "no command 'serv' (did you mean 'serve'?)" in assert_one_line(done.stderr)


# -- operational errors: one line that says what to do ------------------------------------------


def test_a_port_in_use_is_one_line_suggesting_port_0():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_cli("serve", "appsecplus", "--port", str(port))
    assert done.returncode == 1
    line = assert_one_line(done.stderr)
    assert f"port {port} is in use" in line and "--port 0" in line


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root to drop to an unprivileged user"
)
def test_permission_denied_on_a_low_port_is_one_line():
    command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    command += [sys.executable, "-m", "specmock", "serve", "appsecplus", "--port", "80"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd="/")
    assert done.returncode == 1
    line = assert_one_line(done.stderr)
    assert "permission denied listening on 127.0.0.1:80" in line and "--port 0" in line


def test_an_unreadable_document_is_one_line(tmp_path: Path):
    done = run_cli("serve", str(tmp_path))
    assert done.returncode == 2
    assert "cannot read: a folder, not a file" in assert_one_line(done.stderr)
    missing = run_cli("serve", str(tmp_path / "nowhere.yaml"))
    assert missing.returncode == 2
    assert "cannot read: No such file or directory (check the path)" in assert_one_line(missing.stderr)


def test_a_misspelled_bundled_scenario_is_named():
    done = run_cli("serve", "--scenario", "rate-limitd", "--port", "0")
    assert done.returncode == 2
    assert "did you mean 'rate-limited'?" in assert_one_line(done.stderr)


def test_a_scenario_dir_that_is_not_a_folder_is_refused_at_start(tmp_path: Path):
    done = run_cli("serve", "appsecplus", "--port", "0", "--scenario-dir", str(tmp_path / "nope"))
    assert done.returncode == 2
    assert "--scenario-dir" in assert_one_line(done.stderr) and "not a folder" in done.stderr


def test_listen_binds_one_port_for_every_address_and_names_a_taken_one():
    from specmock._server.cli.listen import ListenError, listen

    sockets = listen("localhost", 0)
    try:
        assert len({s.getsockname()[1] for s in sockets}) == 1
        port = sockets[0].getsockname()[1]
        with pytest.raises(ListenError, match=rf"port {port} is in use on 127.0.0.1: .*--port 0 picks a free one"):
            listen("127.0.0.1", port)
    finally:
        for sock in sockets:
            sock.close()
