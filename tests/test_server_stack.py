"""`specmock serve` says which event loop and HTTP parser it runs on, and runs on the one asked for."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys

import pytest


def serving_line(*args: str) -> str:
    """The 'serving on ...' line of a `specmock serve --port 0` started with `args`, which is then stopped."""
    process = subprocess.Popen(
        [sys.executable, "-m", "specmock", "serve", "--port", "0", "--log-level", "info", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    try:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if re.search(r"listening on http://", line):
                break
        found = [line.strip() for line in lines if line.startswith("serving on ")]
        assert found, "".join(lines)
        return found[0]
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_the_fallback_stack_when_asked_for() -> None:
    assert serving_line("--loop", "asyncio", "--http", "h11") == "serving on asyncio + h11"


@pytest.mark.skipif(
    not (importlib.util.find_spec("uvloop") and importlib.util.find_spec("httptools")),
    reason="uvloop and httptools have no wheel here: auto is asyncio + h11",
)
def test_auto_is_the_fast_stack_where_it_is_installed() -> None:
    assert serving_line() == "serving on uvloop + httptools"
