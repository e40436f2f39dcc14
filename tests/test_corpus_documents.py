"""A fixed handful of the corpus sweep's documents, served as they are and checked as the sweep checks them.

benchmarks/corpus_sweep.py measures specmock on a seeded sample of 100 APIs.guru
documents (figures in docs/corpus.md); it takes half an hour, so it is a
benchmark. These three documents from that sample, vendored under
tests/thirdparty/apis-guru/ (source and licence in tests/thirdparty/README.md),
keep a regression on real vendor documents from landing unseen: each is served
by `specmock serve --spec DOC` with no configuration and must pass schemathesis
in positive mode with the sweep's checks (`not_a_server_error,
content_type_conformance, response_schema_conformance`), with few examples so
the three take seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import start_server, stop_server

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = sorted((Path(__file__).parent / "thirdparty" / "apis-guru").glob("*.json"))
CHECKS = "not_a_server_error,content_type_conformance,response_schema_conformance"


def test_the_handful_is_there() -> None:
    assert len(DOCUMENTS) == 3


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.stem)
def test_a_vendor_document_passes_the_sweeps_checks(document: Path, tmp_path: Path) -> None:
    served = start_server("--spec", str(document), "--seed", "1")
    try:
        command = [
            sys.executable, "-m", "schemathesis.cli", "run", str(document), "--origin", served.url,
            "--checks", CHECKS, "--mode", "positive", "--phases", "examples,coverage,fuzzing",
            "--max-examples", "3", "--seed", "21", "--workers", "1", "--no-shrink",
            "--generation-database", "none", "--request-timeout", "10", "--no-color",
        ]  # fmt: skip
        env = {**os.environ, "NO_COLOR": "1"}
        done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert served.process.poll() is None, "the server died under schemathesis"
    finally:
        stop_server(served)
    output = done.stdout + done.stderr
    failures = output[output.find("FAILURES") :] if "FAILURES" in output else output[-4000:]
    assert done.returncode == 0, f"{document.name}:\n{failures[:8000]}"
    assert " generated" in output, output[-2000:]
