"""The bundled specs are valid OpenAPI and complete; a broken spec is refused with file, line and reason."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

import specmock
from specmock._spec.bundled import bundled_specs

SPECS = bundled_specs()
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def _operations() -> Iterator[tuple[str, str, str, dict]]:
    for spec in SPECS:
        document = yaml.safe_load(spec.read_text(encoding="utf-8"))
        for path, item in document["paths"].items():
            for method in METHODS:
                if method in item:
                    yield spec.name, path, method, item[method]


OPERATIONS = list(_operations())


def test_the_three_families_are_bundled():
    assert sorted(spec.name for spec in SPECS) == ["appsecplus.yaml", "sdelements.yaml", "versori-connect.yaml"]
    assert len(OPERATIONS) == 26


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_bundled_spec_is_valid_openapi(spec):
    document, _ = read_from_filename(str(spec))
    validate(document)
    assert document["openapi"].startswith("3.1")


@pytest.mark.parametrize(
    ("spec", "path", "method", "operation"),
    OPERATIONS,
    ids=[f"{spec}:{op.get('operationId', method + ' ' + path)}" for spec, path, method, op in OPERATIONS],
)
def test_every_operation_is_complete(spec, path, method, operation):
    assert operation.get("operationId"), f"{method.upper()} {path} has no operationId"
    extension = operation.get("x-specmock")
    assert isinstance(extension, dict), f"{operation['operationId']} has no x-specmock"
    assert {"action", "collection"} <= set(extension)
    responses = {str(code) for code in operation["responses"]}
    assert "401" in responses, f"{operation['operationId']} documents no 401"
    assert any(code.startswith("2") for code in responses), f"{operation['operationId']} documents no success"


def test_every_bundled_operation_is_served():
    served = sorted(op.operation_id for op in specmock.MockApp().operations)
    assert served == sorted(op["operationId"] for _, _, _, op in OPERATIONS)


# -- load errors ---------------------------------------------------------------------------------------------------

# A minimal valid spec; each broken variant below changes one thing. Line numbers are those of this text.
TINY = """\
openapi: 3.1.0
info: {title: Tiny, version: "1"}
x-specmock:
  family: tiny
  collections:
    things:
      id: {style: integer}
paths:
  /things:
    get:
      operationId: ListThings
      x-specmock:
        action: list
        collection: things
      responses:
        "200": {description: The things.}
        "401": {description: Not authenticated.}
"""

BOMB = """\
x-lol:
  a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
  d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
  e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
  f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
  g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
  h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
  i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""

# name: (the broken text, the lines the error may name, words the reason must contain)
BROKEN = {
    "bad-yaml": (
        TINY.replace("      operationId: ListThings\n", "      operationId: ListThings\n      summary: a: b\n"),
        {12},
        "invalid YAML",
    ),
    "unknown-x-specmock-key": (
        TINY.replace("        collection: things\n", "        collection: things\n        colection: others\n"),
        {15},
        "colection",
    ),
    "unknown-collection": (TINY.replace("collection: things", "collection: widgets"), {14}, "widgets"),
    "operation-without-x-specmock": (
        TINY.replace("      x-specmock:\n        action: list\n        collection: things\n", ""),
        {10, 11},  # the operation: its `get:` line or its first line
        "x-specmock",
    ),
    "merged-schema-on-a-list": (
        TINY.replace("        collection: things\n", "        collection: things\n        mergedSchema: '#/info'\n"),
        {15},
        "mergedSchema applies to action 'update' only",
    ),
    "fill-on-a-list": (
        TINY.replace("        collection: things\n", "        collection: things\n        fill: {by: {$caller: me}}\n"),
        {15},
        "fill applies to action 'create' only",
    ),
    "caller-without-a-fallback": (
        TINY.replace("        collection: things\n", "        collection: things\n        fill: {by: {$caller: ''}}\n"),
        {15},
        "$caller takes the fallback value",
    ),
    # A "billion laughs": 72 aliases that expand to 9**9 strings.
    "yaml-alias-bomb": (TINY + BOMB, set(range(18, 28)), "alias"),
}


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")
    return path


def test_the_tiny_spec_loads(tiny):
    (family,) = specmock.load_specs([tiny])
    assert [op.operation_id for op in family.operations] == ["ListThings"]


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Fail instead of hanging (a YAML bomb that is not refused expands for minutes)."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"still loading after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _assert_names_file_line_and_reason(message: str, path: Path, lines: set[int], reason: str) -> None:
    where = f"{path}:"
    assert message.startswith(where) or f" {where}" in message, message
    line = message.split(where, 1)[1].split(":", 1)[0]
    assert line.isdigit() and int(line) in lines, f"line {line} is not one of {sorted(lines)}: {message}"
    assert reason in message, message


@pytest.mark.parametrize(("text", "lines", "reason"), BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_spec_is_refused_with_file_line_and_reason(tmp_path, text, lines, reason):
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with time_limit(30), pytest.raises(specmock.LoadError) as caught:
        specmock.load_specs([path])
    _assert_names_file_line_and_reason(str(caught.value), path, lines, reason)
    assert caught.value.path == str(path)
    assert caught.value.line in lines


@pytest.mark.parametrize(("text", "lines", "reason"), BROKEN.values(), ids=BROKEN.keys())
def test_specmock_routes_exits_2_on_a_broken_spec(tmp_path, text, lines, reason):
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "specmock", "routes", "--spec", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("specmock routes was still loading the spec after 4 s")
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    message = done.stderr.strip()
    assert message.startswith("specmock: "), message
    assert len(message.splitlines()) == 1, "one line, no traceback"
    _assert_names_file_line_and_reason(message, path, lines, reason)


def test_specmock_routes_lists_a_good_spec(tiny):
    done = subprocess.run(
        [sys.executable, "-m", "specmock", "routes", "--spec", str(tiny)], capture_output=True, text=True, timeout=10
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["tiny", "GET", "/things", "ListThings"]
