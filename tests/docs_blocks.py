"""Read the README's and the docs site's code blocks, and run a shell block as a user would.

A page is a promise: every command a user would paste from it must work. This module
finds the fenced blocks of a Markdown page (with the HTML comment that may stand
just before one) and runs a shell block line by line in a scratch folder:

- `specmock serve ...` and `specmock proxy ...` (with or without a trailing `&`, after
  `NAME=value` assignments or not) start in the background on a free port (the block's
  `--port N`, if any, is replaced), and later lines' `localhost:N` and `127.0.0.1:N`
  follow it; the block waits for its health check before going on;
- every other line runs under bash and must exit 0, or with the status an inline
  `# exit N` names;
- a comment holding a JSON value right after a command (inline, or on the next line)
  is the output that command must print;
- a page's set-up (tests/docs_setups.py) may rewrite what the page names to what the
  test has (`rewrites`, e.g. a Redis URL) and refuse error documents from curl.

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
_SERVE = re.compile(r"^((?:\w+=\S*\s+)*)((?:\S*/)?specmock (?:serve|proxy)\b.*)$")
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
    """Runs shell commands in a folder, with the servers they start (until `stop`)."""

    cwd: Path
    env: dict[str, str]
    #: Text the page names -> what this test has (applied to every command before it runs).
    rewrites: dict[str, str] = field(default_factory=dict)
    #: A curl line must not print an API error document (`{"error"...`).
    refuse_error_documents: bool = False
    servers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    ports: dict[str, str] = field(default_factory=dict)

    def run(self, text: str) -> None:
        """Every command of a block, then stop the servers it started."""
        try:
            for command in commands(text):
                self.one(command)
        finally:
            self.stop()

    def url(self, port: str = "8080") -> str:
        """Where the server the page calls `port` listens here."""
        return f"http://127.0.0.1:{self.ports[port]}"

    def _rewrite(self, text: str, ports: bool = True) -> str:
        """The page's names for what this test has: `rewrites`, and (`ports`) a server's
        page port in an address or a client's `--port` for the port it got here."""
        for old, new in self.rewrites.items():
            text = text.replace(old, new)
        for old, new in self.ports.items() if ports else ():
            text = re.sub(rf"(localhost|127\.0\.0\.1):{old}\b", rf"\g<1>:{new}", text)
            text = re.sub(rf"--port[ =]{old}\b", f"--port {new}", text)
        return text

    def one(self, command: Command) -> None:
        """Run one command (a server: start it and wait for it) and check what the page expects."""
        text = command.text
        serve = _SERVE.match(text)
        if serve:
            self.serve(serve.group(2), serve.group(1))
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
        if self.refuse_error_documents and text.startswith("curl"):
            assert not out.lstrip().startswith('{"error"'), f"{text!r} got an error document: {out[-2000:]}"

    def serve(self, text: str, assignments: str = "") -> None:
        """Start `specmock serve|proxy ...` on a free port, which the page's port now means."""
        text = self._rewrite(text.removesuffix("&").strip(), ports=False)
        port = free_port()
        given = _PORT_FLAG.search(text)
        self.ports[given.group(0).split()[-1].split("=")[-1] if given else "8080"] = str(port)
        text = _PORT_FLAG.sub(f"--port {port}", text) if given else f"{text} --port {port}"
        process = subprocess.Popen(
            ["bash", "-c", f"{assignments}exec {text}"],
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

    def stop(self) -> list[int]:
        """Stop (SIGTERM, then SIGKILL after 10 s) every server started; their exit statuses."""
        statuses = []
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
            statuses.append(process.returncode)
        self.servers.clear()
        return statuses
