"""Hostile documents (issue 23, findings 3, 7 and 11): each is served or refused with file:line,
in bounded time, never with a traceback, never reading a file outside the document's folder,
never fetching, never stalling.

The static documents live in tests/hostile_documents/ (the line marked `# REFUSED` is the line
the refusal names; `# SERVED` marks one that must load). Those that need the file system or a
socket (a FIFO, /dev/zero, a symlink out of the folder, a silent server) are built here. Loads
that could hang on today's main run in a subprocess with a timeout, so a regression fails
instead of hanging the suite.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import run_cli
from specmock import MockApp
from specmock._errors import LoadError
from specmock._spec.routing_trie import SegmentPattern, segment_parts
from specmock._testing.transport import SyncASGITransport

HOSTILE = Path(__file__).parent / "hostile_documents"


def marked(path: Path, mark: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if mark in line)


REFUSED = [
    ("passwd-example.yaml", "$ref '/etc/passwd' reads /etc/passwd, outside"),
    ("dotdot-ref.yaml", "reads /etc/passwd, outside"),
    ("alias-bomb.yaml", "through aliases (a YAML alias bomb?)"),
    ("deep-200.json", "invalid JSON: nested more than 64 levels deep"),
]


@pytest.mark.parametrize(("name", "reason"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_hostile_document_is_refused_with_file_and_line(name: str, reason: str) -> None:
    path = HOSTILE / name
    started = time.perf_counter()
    with pytest.raises(LoadError) as refused:
        MockApp([path])
    assert time.perf_counter() - started < 5  # 40 s and 1.2 GB for the doubling refs on the old main
    (problem,) = refused.value.problems
    assert problem.path == str(path)
    assert reason in problem.reason
    if "# REFUSED" in path.read_text():
        assert problem.line == marked(path, "# REFUSED")
    else:
        assert problem.line is not None
    assert "root:" not in str(refused.value)


@pytest.mark.parametrize("name", ["doubling-refs.yaml", "deep-refs.yaml"])
def test_references_that_multiply_or_nest_are_served_in_bounded_time(name: str) -> None:
    """A 2.5 KB chain of references that each name the next one twice took 40 s and 1.2 GB to
    inline; 200 references nested one in another were a RecursionError. Inlining now stops at a
    budget and leaves the rest to the validator, which resolves a reference when it meets one:
    the document loads fast and validates as written, at every depth."""
    started = time.perf_counter()
    app = MockApp([HOSTILE / name], seed=1)
    assert time.perf_counter() - started < 3
    leaf: Any = {}  # as deep as a body may nest (32 levels), every level an object as the schema says
    wrong: Any = 7
    for _ in range(30):
        leaf, wrong = {"a": leaf}, {"a": wrong}
    with client(app) as http:
        started = time.perf_counter()
        assert http.post("/x", json=leaf).status_code == 201
        assert http.post("/x", json=wrong).status_code == 400
        assert time.perf_counter() - started < 2


def test_the_cli_refuses_them_in_one_line_without_a_traceback() -> None:
    for name, reason in REFUSED:
        result = run_cli("routes", "--spec", str(HOSTILE / name), timeout=30)
        assert result.returncode == 2, name
        assert result.stderr.startswith(f"specmock: {HOSTILE / name}:") and reason in result.stderr
        assert "Traceback" not in result.stderr


def client(app: MockApp) -> httpx.Client:
    return httpx.Client(transport=SyncASGITransport(app), base_url="http://testserver")


def test_a_backtracking_pattern_answers_fast_on_a_long_body() -> None:
    """`^(a+)+$` on 29+ characters blocked every request for 9 s: patterns run in RE2 now."""
    with client(MockApp([HOSTILE / "redos-pattern.yaml"], seed=1)) as http:
        for length in (29, 40, 5_000):
            started = time.perf_counter()
            refused = http.post("/words", json={"word": "a" * length + "!"})
            assert refused.status_code == 400
            assert time.perf_counter() - started < 1
        assert http.post("/words", json={"word": "a" * 40}).status_code == 201
        started = time.perf_counter()
        answered = http.get("/words/" + "a" * 5_000 + "%21")
        assert answered.status_code in (400, 404)
        assert time.perf_counter() - started < 1


def test_a_pattern_re2_cannot_run_is_dropped_with_a_warning() -> None:
    path = HOSTILE / "lookaround-pattern.yaml"
    app = MockApp([path], seed=1)
    (warning,) = app.families[0].warnings
    assert warning.startswith(f"{path}:{marked(path, '# SERVED')}: #/paths/~1codes/post/requestBody/")
    assert "not a linear-time regular expression" in warning
    with pytest.raises(LoadError, match="not a linear-time regular expression"):
        MockApp([path], strict=True)


def test_a_long_segment_on_a_mixed_template_answers_fast() -> None:
    """`/files/{a}-{b}.{c}` with a 64 KB segment took 9.8 s through a lazy regex."""
    app = MockApp([HOSTILE / "mixed-segment.yaml"], seed=1)
    started = time.perf_counter()
    assert app.router.match("GET", "/files/" + "-" * 65_536).operation is None
    assert app.router.match("GET", "/files/" + "a-" * 32_768 + "x").operation is None
    assert time.perf_counter() - started < 1
    with client(app) as http:  # httpx takes URLs up to 64 KB in all
        started = time.perf_counter()
        assert http.get("/files/" + "-" * 60_000).status_code == 404
        assert time.perf_counter() - started < 1
        assert http.get("/files/report-2024.tar.gz").status_code == 200


@pytest.mark.parametrize(
    "template",
    ["{a}-{b}.{c}", "{a}.json", "v{a}", "{a}{b}", "x{a}yy{b}z", "{a}--{b}"],
)
def test_a_segment_pattern_matches_as_the_lazy_regex_did(template: str) -> None:
    """The class: the linear matcher gives the values the old `(.+?)` regex gave, on every input."""
    import itertools
    import re

    parts = segment_parts(template)
    regex = re.compile("".join(re.escape(text) + ("(.+?)" if name else "") for text, name in parts) + r"\Z")
    pattern = SegmentPattern.of(parts)
    for size in range(7):
        for letters in itertools.product("-.xyjz", repeat=size):
            segment = "".join(letters)
            found = regex.match(segment)
            assert pattern.match(segment) == (found.groups() if found else None), segment


def test_defs_refs_load_instead_of_a_key_error() -> None:
    path = HOSTILE / "defs-ref.yaml"
    app = MockApp([path], seed=1)
    warnings = app.families[0].warnings
    assert any("$ref '#/$defs/A' read against the enclosing schema's $defs" in w for w in warnings)
    assert any(w.startswith(f"{path}:{marked(path, '# SERVED')}:") and "does not resolve" in w for w in warnings)
    with client(app) as http:
        assert http.post("/things", json={"a": "x", "b": 1}).status_code == 201
        assert http.post("/things", json={"a": 1}).status_code == 400


# -- built here: the file system and the network ---------------------------------------------------

BASE = """\
openapi: 3.1.0
info: {title: Hostile, version: '1'}
paths:
  /users:
    get:
      operationId: listUsers
      responses:
        '200':
          description: users
          content:
            application/json:
              schema: {SCHEMA}
"""


def spec_with(folder: Path, schema: str) -> Path:
    path = folder / "spec.yaml"
    path.write_text(BASE.replace("{SCHEMA}", schema))
    return path


def test_a_ref_to_a_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    spec = spec_with(tmp_path, "{$ref: 'pipe.yaml'}")
    result = run_cli("routes", "--spec", str(spec), timeout=30)
    assert result.returncode == 2
    assert f"{spec}:12: $ref 'pipe.yaml': {tmp_path / 'pipe.yaml'} is not a regular file" in result.stderr


def test_a_ref_to_a_device_is_refused_not_read(tmp_path: Path) -> None:
    spec = spec_with(tmp_path, "{$ref: '/dev/zero'}")
    with pytest.raises(LoadError, match="outside"):
        MockApp([spec])
    result = run_cli("routes", "--spec", str(spec), timeout=30)
    assert result.returncode == 2 and "outside" in result.stderr
    os.symlink("/dev/zero", tmp_path / "zero.yaml")
    spec = spec_with(tmp_path, "{$ref: 'zero.yaml'}")
    with pytest.raises(LoadError, match="outside"):
        MockApp([spec])
    with pytest.raises(LoadError, match="is not a regular file"):
        MockApp([spec], ref_root="/")


def test_a_symlink_out_of_the_folder_is_refused_and_a_wider_root_admits_it(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "user.yaml").write_text("type: string\n")
    (tmp_path / "api").mkdir()
    os.symlink(tmp_path / "shared" / "user.yaml", tmp_path / "api" / "user.yaml")
    spec = spec_with(tmp_path / "api", "{$ref: 'user.yaml'}")
    with pytest.raises(LoadError) as refused:
        MockApp([spec])
    assert refused.value.line == 12 and "outside" in refused.value.reason
    spec = spec_with(tmp_path / "api", "{$ref: '../shared/user.yaml'}")
    with pytest.raises(LoadError, match="outside"):
        MockApp([spec])
    assert len(MockApp([spec], ref_root=tmp_path).operations) == 1


def test_a_ref_root_from_the_environment_widens_it_for_the_cli(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "user.yaml").write_text("type: string\n")
    (tmp_path / "api").mkdir()
    spec = spec_with(tmp_path / "api", "{$ref: '../shared/user.yaml'}")
    assert run_cli("routes", "--spec", str(spec)).returncode == 2
    os.environ["SPECMOCK_REF_ROOT"] = str(tmp_path)
    try:
        listed = run_cli("routes", "--spec", str(spec))
    finally:
        del os.environ["SPECMOCK_REF_ROOT"]
    assert listed.returncode == 0 and "listUsers" in listed.stdout


#: Every command that loads documents, with what makes it stop soon after the load (a host
#: that cannot be bound, a provider that does not answer): the load is what is tested.
LOADING_COMMANDS = {
    "routes": ["routes", "{spec}"],
    "validate": ["validate", "{spec}"],
    "infer": ["infer", "{spec}"],
    "serve": ["serve", "{spec}", "--port", "0", "--host", "256.0.0.1"],
    "proxy": ["proxy", "{spec}", "--upstream", "http://127.0.0.1:9", "--port", "0", "--host", "256.0.0.1"],
    "verify": ["verify", "{spec}", "--target", "http://127.0.0.1:9", "--timeout", "1"],
    "replay": ["replay", "{journal}", "{spec}", "--target", "http://127.0.0.1:9", "--timeout", "1"],
}


@pytest.mark.parametrize("command", sorted(LOADING_COMMANDS))
def test_every_command_that_loads_documents_takes_a_ref_root(command: str, tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "user.yaml").write_text("type: string\n")
    (tmp_path / "api").mkdir()
    spec = spec_with(tmp_path / "api", "{$ref: '../shared/user.yaml'}")
    (tmp_path / "journal.json").write_text("[]")
    argv = [a.format(spec=spec, journal=tmp_path / "journal.json") for a in LOADING_COMMANDS[command]]
    refused = run_cli(*argv, timeout=60)
    broken = 1 if command == "validate" else 2  # validate's finding is its answer; elsewhere a usage error
    assert refused.returncode == broken and "outside" in refused.stderr, refused.stderr
    assert "--ref-root DIR" in refused.stderr, "the refusal names the flag that widens the root"
    admitted = run_cli(*argv, "--ref-root", str(tmp_path), timeout=60)
    assert "outside" not in admitted.stderr and "$ref" not in admitted.stderr, admitted.stderr
    if command in ("routes", "validate", "infer"):
        assert admitted.returncode == 0, admitted.stderr


def test_a_huge_referenced_file_is_refused_unread(tmp_path: Path) -> None:
    with open(tmp_path / "huge.yaml", "wb") as huge:
        huge.truncate(64 * 2**20)  # sparse: costs no disk
    spec = spec_with(tmp_path, "{$ref: 'huge.yaml'}")
    started = time.perf_counter()
    with pytest.raises(LoadError, match="larger than 32 MB"):
        MockApp([spec])
    assert time.perf_counter() - started < 2


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()


@pytest.mark.parametrize(
    "schema",
    [
        "{$schema: 'URL/schema', type: string}",
        "{$id: 'URL/user', type: object, properties: {a: {$ref: 'other.json'}}}",
        "{type: object, properties: {a: {$id: 'URL/a', type: string}}}",
    ],
    ids=["$schema", "$id-and-relative-ref", "nested-$id"],
)
def test_schema_names_are_never_fetched(tmp_path: Path, silent_server: str, schema: str) -> None:
    """`$schema: http://...` made jsonschema-rs fetch at start-up (30 s on a silent server)."""
    (tmp_path / "other.json").write_text('{"type": "string"}')
    body = schema.replace("URL", silent_server)
    path = tmp_path / "spec.yaml"
    path.write_text(
        BASE.replace("{SCHEMA}", "{type: string}").replace("    get:\n", "    post:\n", 1)
        + "      requestBody:\n        content:\n          application/json:\n            schema: "
        + body
        + "\n"
    )
    started = time.perf_counter()
    result = run_cli("routes", "--spec", str(path), timeout=20)
    assert time.perf_counter() - started < 15
    assert result.returncode == 0, result.stderr
    assert "is a name, never fetched" in result.stderr


def test_the_validators_never_retrieve_a_reference(silent_server: str) -> None:
    """Beyond the repairs (which drop `$schema`/`$id`): jsonschema resolves in a registry that never
    retrieves, jsonschema-rs runs offline, and its meta-schema check is skipped for a `$schema`."""
    from referencing.exceptions import Unresolvable

    from specmock._spec.fastvalidation import compile_fast
    from specmock._spec.patterns import VALIDATOR, no_retrieval
    from specmock._spec.schema_check import surely_valid_schema

    remote = {"type": "object", "properties": {"a": {"$ref": f"{silent_server}/a.json"}}}
    started = time.perf_counter()
    validator = VALIDATOR(remote, registry=no_retrieval())
    with pytest.raises(Unresolvable):
        list(validator.iter_errors({"a": 1}))
    assert compile_fast(remote) is None  # jsonschema-rs refuses to build it offline
    assert surely_valid_schema({"$schema": f"{silent_server}/schema", "type": "string"}) is False
    assert time.perf_counter() - started < 2


def test_serve_strict_refuses_before_listening(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text((HOSTILE / "lookaround-pattern.yaml").read_text())
    result = run_cli("serve", "--strict", "--port", "0", "--spec", str(spec), timeout=30)
    assert result.returncode == 2
    assert f"specmock: {spec}:" in result.stderr and "not a linear-time regular expression" in result.stderr


def test_a_remote_ref_is_warned_never_fetched() -> None:
    path = HOSTILE / "remote-ref.yaml"
    app = MockApp([path], seed=1)
    (warning,) = app.families[0].warnings
    assert warning.startswith(f"{path}:{marked(path, '# SERVED')}: #/paths/~1users/get/responses/200/content/")
    assert "remote $ref 'http://127.0.0.1:9/user.json' is not fetched" in warning
    with client(app) as http:
        assert http.get("/users").status_code == 200


def test_recursive_and_widely_shared_schemas_are_within_the_budget(tmp_path: Path) -> None:
    """The budget counts a recursive reference once and measures each target once: a tree schema
    and a schema shared by 2,000 others load (and a recursive body still validates)."""
    shared = "\n".join(
        f"    S{i}: {{type: object, properties: {{n: {{$ref: '#/components/schemas/Node'}}}}}}" for i in range(2000)
    )
    path = spec_with(tmp_path, "{$ref: '#/components/schemas/Node'}")
    path.write_text(
        path.read_text().replace(
            "    get:\n",
            "    post:\n      requestBody:\n        content:\n"
            "          application/json:\n            schema: {$ref: '#/components/schemas/Node'}\n",
            1,
        )
        + "components:\n  schemas:\n    Node:\n      type: object\n      properties:\n"
        "        name: {type: string}\n        children: {type: array, items: {$ref: '#/components/schemas/Node'}}\n"
        + shared
        + "\n"
    )
    with client(MockApp([path], seed=1)) as http:
        assert http.post("/users", json={"name": "a", "children": [{"name": "b", "children": []}]}).status_code == 200
        assert http.post("/users", json={"name": "a", "children": [{"name": 1}]}).status_code == 400
