"""Schemathesis against every bundled spec, on a live `specmock serve`.

Each spec is fuzzed in all four phases (examples, coverage, fuzzing and the
stateful phase, which chains operations through the spec's OpenAPI links and
the links Schemathesis infers), with positive and negative data and these
checks on: every response must be documented, in the documented content type,
shape and headers; schema-valid requests accepted and schema-invalid ones
refused; a deleted resource gone and a created one there. The run must end
with zero failures.

Not on: `ignored_auth` (the mock accepts any token unless a scenario sets an
auth policy, by design) and `object_level_authorization` (no user model).

A few requests are valid by the schema yet rightly refused for what no JSON
Schema can say (a cursor the server never gave out, a body `id` that is not
the path's, an ALM system that does not exist, an `authSchemeConfigIds` that is
not a permutation of the existing ids). The `filter_failure` hook below lets
exactly those `positive_data_acceptance` refusals through, recognised by the
error body, and counts them; every other failure stands.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import Served, start_server, stop_server
from specmock._spec.bundled import bundled_dir

#: Hypothesis examples per operation and phase; the coverage phase adds its own fixed set.
MAX_EXAMPLES = 40
SEED = 1
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    "use_after_free",
    "ensure_resource_availability",
    "unsupported_method",
    "allow_header_conformance",
    "missing_required_header",
]

SPECS = [
    pytest.param("appsecplus.yaml", "Bearer schemathesis", id="appsecplus"),
    pytest.param("versori-connect.yaml", "Bearer schemathesis", id="versori"),
    pytest.param("sdelements.yaml", "Token schemathesis", id="sdelements"),
]

HOOKS = '''
import json
import os

import schemathesis

LOG = os.environ["SPECMOCK_SEMANTIC_LOG"]


def _json(response):
    try:
        return json.loads(response.content or b"null")
    except ValueError:
        return None


def _all(fields, names, message):
    return bool(fields) and all(
        isinstance(f, dict) and f.get("field") in names and message in str(f.get("message", "")) for f in fields
    )


DRF_PARAM_MESSAGES = ("This field is required.", "This field may not be blank.")


def semantic_refusal(method, path, body):
    """Why a schema-valid request was rightly refused, or None."""
    if not isinstance(body, dict):
        return None
    if path.startswith("/o/"):  # Versori Connect
        fields = body.get("fields")
        if _all(fields, ("after", "before"), "unknown cursor"):
            return "unknown paging cursor"
        if _all(fields, ("id", "organisationId"), "must equal the "):
            return "body id or organisationId differs from the path"
        if _all(fields, ("authSchemeConfigIds",), "must list exactly the ids"):
            return "authSchemeConfigIds is not a permutation of the existing ids"
    if path.startswith("/connectors/alm/") and set(body) == {"system"}:  # SD Elements
        messages = body["system"]
        if isinstance(messages, list) and messages and all(str(m).startswith("Invalid ALM system") for m in messages):
            return "unknown ALM system"
    if method == "PATCH" and path.startswith("/connectors/alm/") and set(body) == {"params"}:  # SD Elements
        # The connector a PATCH would leave lacks its ALM system's params: the stored item decides.
        params = body["params"]
        if isinstance(params, dict) and params and all(
            isinstance(m, list) and m and all(x in DRF_PARAM_MESSAGES for x in m) for m in params.values()
        ):
            return "PATCH leaves the connector without its ALM system's params"
    return None


@schemathesis.hook
def filter_failure(context, failure, case, response):
    if failure.code != "ST202":  # positive_data_acceptance only
        return True
    reason = semantic_refusal(case.operation.method.upper(), case.operation.path, _json(response))
    if reason is None:
        return True
    with open(LOG, "a", encoding="utf-8") as log:
        log.write(json.dumps({"operation": case.operation.label, "reason": reason}) + "\\n")
    return False
'''


@pytest.fixture(scope="module")
def server() -> Iterator[Served]:
    served = start_server("--seed", str(SEED))
    try:
        yield served
    finally:
        stop_server(served)


def run_schemathesis(spec: Path, origin: str, authorization: str, workdir: Path) -> tuple[int, str, Counter[str]]:
    (workdir / "specmock_st_hooks.py").write_text(HOOKS, encoding="utf-8")
    log = workdir / "semantic.jsonl"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(workdir), os.environ.get("PYTHONPATH")])),
        "SCHEMATHESIS_HOOKS": "specmock_st_hooks",
        "SPECMOCK_SEMANTIC_LOG": str(log),
        "NO_COLOR": "1",
    }
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        str(spec),
        "--origin",
        origin,
        "--header",
        f"Authorization: {authorization}",
        "--checks",
        ",".join(CHECKS),
        "--mode",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--request-timeout",
        "10",
        "--no-color",
    ]
    done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=240, check=False)
    allowed: Counter[str] = Counter()
    if log.exists():
        for line in log.read_text(encoding="utf-8").splitlines():
            allowed[json.loads(line)["reason"]] += 1
    return done.returncode, done.stdout + done.stderr, allowed


@pytest.mark.parametrize(("spec_name", "authorization"), SPECS)
def test_schemathesis_finds_nothing(server: Served, tmp_path: Path, spec_name: str, authorization: str) -> None:
    reset = httpx.post(f"{server.url}/__specmock/reset", json={"seed": SEED})
    assert reset.status_code == 200
    started = time.monotonic()
    code, output, allowed = run_schemathesis(bundled_dir("specs") / spec_name, server.url, authorization, tmp_path)
    seconds = time.monotonic() - started
    generated = re.search(r"(\d+) generated", output)
    cases = int(generated.group(1)) if generated else 0
    print(f"\nschemathesis {spec_name}: {cases} cases, {seconds:.0f}s, exit {code}, allowed refusals {dict(allowed)}")
    assert server.process.poll() is None, "the server died under schemathesis"
    failures = output[output.find("FAILURES") :] if "FAILURES" in output else output[-6000:]
    assert code == 0, f"schemathesis found failures in {spec_name}:\n{failures[:12000]}"
    assert cases > 0, output[-3000:]


PETSTORE = Path(__file__).parent / "thirdparty" / "petstore-expanded.yaml"


def test_schemathesis_finds_nothing_on_petstore_served_with_zero_configuration(tmp_path: Path) -> None:
    """The OpenAPI Initiative's Petstore, as published, no x-specmock and no overlay: the same checks."""
    served = start_server("--seed", str(SEED), "--spec", str(PETSTORE))
    try:
        code, output, allowed = run_schemathesis(PETSTORE, served.url, "Bearer schemathesis", tmp_path)
        generated = re.search(r"(\d+) generated", output)
        cases = int(generated.group(1)) if generated else 0
        print(f"\nschemathesis petstore-expanded.yaml: {cases} cases, exit {code}")
        assert served.process.poll() is None, "the server died under schemathesis"
        failures = output[output.find("FAILURES") :] if "FAILURES" in output else output[-6000:]
        assert code == 0, f"schemathesis found failures in Petstore:\n{failures[:12000]}"
        assert not allowed, "no refusal of Petstore's valid requests is excused"
        assert cases > 0, output[-3000:]
    finally:
        stop_server(served)
