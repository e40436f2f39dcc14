"""Read the README's and the docs site's code blocks, and run a shell block as a user would.

A page is a promise: every command a user would paste from it must work. This module
finds the fenced blocks of a Markdown page (with the HTML comment that may stand
just before one) and runs a shell block line by line in a scratch folder:

- `specmock serve ...` (with or without a trailing `&`) starts in the background on a
  free port (the block's `--port N`, if any, is replaced), and later lines' `localhost:N`
  and `127.0.0.1:N` follow it; the block waits for its health check before going on;
- every other line runs under bash and must exit 0, or with the status an inline
  `# exit N` names;
- a comment holding a JSON value right after a command (inline, or on the next line)
  is the output that command must print.

A block that cannot run here says so in a comment before it,
`<!-- not run...: why, and the test or script that runs it instead -->`, and the
path it names must exist.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

_FENCE = re.compile(r"^```(\w*)\s*$")
_NOT_RUN = re.compile(r"<!--\s*not run[^:]*:(.*?)-->", re.S)
_SERVE = re.compile(r"^(?:\S*/)?specmock serve\b")
_PORT_FLAG = re.compile(r"--port[ =]\d+")
_EXIT = re.compile(r"#\s*exit (\d+)\s*$")


@dataclass
class Block:
    """One fenced block: where it is, its language, its text and any not-run note."""

    page: Path
    line: int
    lang: str
    text: str
    not_run: str | None = None

    @property
    def name(self) -> str:
        return f"{self.page.name}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of a Markdown page, in order."""
    found: list[Block] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        match = _FENCE.match(lines[index])
        if not match:
            index += 1
            continue
        start = index
        index += 1
        body: list[str] = []
        while index < len(lines) and not lines[index].startswith("```"):
            body.append(lines[index])
            index += 1
        before = "\n".join(lines[max(0, start - 3) : start])
        note = _NOT_RUN.search(before)
        found.append(Block(page, start + 1, match.group(1), "\n".join(body), note.group(1).strip() if note else None))
        index += 1
    return found


def _strip_comment(line: str) -> tuple[str, str]:
    """A command line without its trailing comment, and the comment (quotes respected)."""
    quote = ""
    for position, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#" and (position == 0 or line[position - 1].isspace()):
            return line[:position].rstrip(), line[position + 1 :].strip()
    return line.rstrip(), ""


@dataclass
class Command:
    """One command of a shell block, with what its comments expect."""

    text: str
    exit_code: int = 0
    output: object = None
    has_output: bool = False


def commands(text: str) -> list[Command]:
    """A shell block's commands: continuation lines joined, comments read for expectations."""
    found: list[Command] = []
    pending = ""
    for raw in text.splitlines():
        line = pending + raw
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            if found:
                _expect(found[-1], stripped[1:].strip())
            continue
        command, comment = _strip_comment(stripped)
        found.append(Command(command))
        _expect(found[-1], comment)
    return found


def _expect(command: Command, comment: str) -> None:
    exit_match = _EXIT.search("# " + comment)
    if exit_match:
        command.exit_code = int(exit_match.group(1))
        return
    if comment[:1] in "{[" and not command.has_output:
        try:
            command.output = json.loads(comment)
        except ValueError:
            return
        command.has_output = True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ShellRun:
    """Runs one shell block's commands in a folder, with the servers it starts."""

    cwd: Path
    env: dict[str, str]
    servers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    ports: dict[str, str] = field(default_factory=dict)

    def run(self, text: str) -> None:
        try:
            for command in commands(text):
                self._one(command)
        finally:
            self.close()

    def _rewrite(self, text: str) -> str:
        for old, new in self.ports.items():
            text = re.sub(rf"(localhost|127\.0\.0\.1):{old}\b", rf"\g<1>:{new}", text)
        return text

    def _one(self, command: Command) -> None:
        text = command.text
        if _SERVE.match(text):
            self._serve(text)
            return
        text = self._rewrite(text)
        done = subprocess.run(
            ["bash", "-c", text], cwd=self.cwd, env=self.env, capture_output=True, timeout=120, check=False
        )
        out = done.stdout.decode("utf-8", "replace")
        assert done.returncode == command.exit_code, (
            f"{text!r} exited {done.returncode}, the page says {command.exit_code}\n"
            f"stdout: {out[-2000:]}\nstderr: {done.stderr.decode('utf-8', 'replace')[-2000:]}"
        )
        if command.has_output:
            assert json.loads(out) == command.output, f"{text!r} printed {out!r}, the page says {command.output!r}"

    def _serve(self, text: str) -> None:
        text = text.removesuffix("&").strip()
        port = free_port()
        given = _PORT_FLAG.search(text)
        self.ports[given.group(0).split()[-1].split("=")[-1] if given else "8080"] = str(port)
        text = _PORT_FLAG.sub(f"--port {port}", text) if given else f"{text} --port {port}"
        process = subprocess.Popen(
            ["bash", "-c", f"exec {text}"],
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.servers.append(process)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                err = process.stderr.read().decode("utf-8", "replace") if process.stderr else ""
                raise AssertionError(f"{text!r} exited {process.returncode}: {err[-3000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/__specmock/health", timeout=1).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{text!r} did not answer on port {port} within 60 s")

    def close(self) -> None:
        for process in self.servers:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
            if process.stderr:
                process.stderr.close()
        self.servers.clear()
